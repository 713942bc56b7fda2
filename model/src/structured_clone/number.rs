//! Numbers in the tagged JSON form, compared as the JavaScript values they
//! are.
//!
//! A JSON number names the IEEE 754 double nearest to its decimal text
//! (ECMAScript's `JSON.parse` uses StringToNumber, <https://tc39.es/ecma262/#sec-json.parse>),
//! so `9007199254740992`, `9007199254740992.0` and `9.007199254740992e15`
//! are one value, and `1152921504606847000` (how `String(2 ** 60)`
//! spells it) is 2^60. serde_json keeps the spelling (an integer, or a
//! float), and would judge them different. Every number of a message, the
//! model's and an engine's alike, goes through [`canonical_tagged_json`]
//! before it is compared, serialized into a snapshot, or keyed, so that
//! equality of two tagged values is SameValue on their numbers:
//! <https://tc39.es/ecma262/#sec-samevalue> (`-0` apart from `0`, `NaN`
//! equal to `NaN`: both are tagged, `{$number: "-0"}` and
//! `{$number: "NaN"}`, never bare JSON numbers).

use serde_json::{Number, Value as Json};

/// Below this, every integral double is written as a JSON integer.
const INTEGER_LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63

/// SameValue(x, y) for Numbers: Number::sameValue.
/// <https://tc39.es/ecma262/#sec-numeric-types-number-sameValue>
pub fn same_value(x: f64, y: f64) -> bool {
    // 1. If x is NaN and y is NaN, return true.
    if x.is_nan() && y.is_nan() {
        return true;
    }
    // 2. If x is +0 and y is -0, return false. 3. If x is -0 and y is +0,
    //    return false.
    if x == 0.0 && y == 0.0 {
        return x.is_sign_negative() == y.is_sign_negative();
    }
    // 4. If x is y, return true. 5. Return false.
    x == y
}

/// The one tagged JSON spelling of the Number `n`: `{$number: ...}` for
/// NaN, the infinities and `-0`; a JSON integer for an integral value under
/// 2^63 in magnitude; a JSON float otherwise.
pub fn canonical_number_json(n: f64) -> Json {
    let tagged = |s: &str| crate::message::tagged("$number", Json::String(s.into()));
    if n.is_nan() {
        tagged("NaN")
    } else if n.is_infinite() {
        tagged(if n > 0.0 { "Infinity" } else { "-Infinity" })
    } else if n == 0.0 && n.is_sign_negative() {
        tagged("-0")
    } else if n.fract() == 0.0 && n.abs() < INTEGER_LIMIT {
        // Exact: an integral double under 2^63 is an i64.
        Json::Number(Number::from(n as i64))
    } else {
        Json::Number(Number::from_f64(n).expect("finite"))
    }
}

/// `json` with every bare JSON number respelled by
/// [`canonical_number_json`] (after rounding it to the double it names).
/// Everything else, tagged numbers included, stays as it is.
pub fn canonical_tagged_json(json: Json) -> Json {
    match json {
        Json::Number(n) => canonical_number_json(n.as_f64().expect("a JSON number")),
        Json::Array(items) => Json::Array(items.into_iter().map(canonical_tagged_json).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (k, canonical_tagged_json(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// How an engine's `JSON.stringify` spells each boundary value (the
    /// shortest round-trip digits of Number::toString,
    /// <https://tc39.es/ecma262/#sec-numeric-types-number-tostring>), and
    /// the double it is, worked out by hand.
    const BOUNDARIES: [(&str, f64); 8] = [
        ("9007199254740991", 9_007_199_254_740_991.0), // 2^53 - 1
        ("9007199254740992", 9_007_199_254_740_992.0), // 2^53
        ("-9007199254740992", -9_007_199_254_740_992.0),
        ("9007199254740994", 9_007_199_254_740_994.0), // 2^53 + 2
        ("1152921504606847000", 1_152_921_504_606_846_976.0), // 2^60
        ("8.98846567431158e+307", 8.98846567431158e307), // 2^1023
        ("5e-324", 5e-324),                            // smallest subnormal
        ("1e+21", 1e21),
    ];

    #[test]
    fn an_engines_spelling_and_the_models_are_one_value() {
        for (text, n) in BOUNDARIES {
            let engine: Json = serde_json::from_str(text).unwrap();
            let model = crate::message::MessageValue::Number(n).observable_json();
            assert_eq!(canonical_tagged_json(engine), model, "{text}");
        }
        // 2^53 as a float and as an integer, in a nested value.
        let a = canonical_tagged_json(json!({"a": [9007199254740992.0_f64]}));
        let b = canonical_tagged_json(json!({"a": [9007199254740992_u64]}));
        assert_eq!(a, b);
        assert_eq!(a.to_string(), r#"{"a":[9007199254740992]}"#);
    }

    #[test]
    fn different_doubles_stay_different() {
        let c = |s: &str| canonical_tagged_json(serde_json::from_str(s).unwrap());
        assert_ne!(c("9007199254740992"), c("9007199254740994"));
        assert_ne!(c("5e-324"), c("0"));
        assert_ne!(c(r#"{"$number":"-0"}"#), c("0"));
        assert_eq!(c(r#"{"$number":"NaN"}"#), c(r#"{"$number":"NaN"}"#));
    }

    #[test]
    fn same_value_on_signed_zeros_and_nan() {
        assert!(same_value(f64::NAN, f64::NAN));
        assert!(!same_value(0.0, -0.0));
        assert!(same_value(-0.0, -0.0));
        assert!(same_value(
            9_007_199_254_740_992.0,
            9_007_199_254_740_993.0_f64
        ));
        assert!(!same_value(1.0, 2.0));
    }
}

#[cfg(test)]
mod delivery_tests {
    use crate::message::MessageValue;
    use crate::outcome::Delivery;

    #[test]
    fn a_delivery_read_from_an_engine_equals_the_models() {
        // The engine's report of `[2**53, -(2**53), 2**53 + 2, 2**1023,
        // Number.MIN_VALUE]` as `JSON.stringify` writes it.
        let engine: Delivery = serde_json::from_str(
            r#"{"message":[9007199254740992,-9007199254740992,9007199254740994,8.98846567431158e+307,5e-324,{"$number":"-0"}],"origin":"http://a.test","source":"top"}"#,
        )
        .unwrap();
        let model = Delivery {
            message: MessageValue::Array(
                [
                    9_007_199_254_740_992.0,
                    -9_007_199_254_740_992.0,
                    9_007_199_254_740_994.0,
                    8.98846567431158e307,
                    5e-324,
                    -0.0,
                ]
                .map(MessageValue::Number)
                .to_vec(),
            )
            .observable_json(),
            origin: "http://a.test".into(),
            source: Some("top".into()),
            ports: Vec::new(),
        };
        assert_eq!(engine, model);
        // And as a snapshot writes and reads it back.
        let yaml = serde_yaml::to_string(&model).unwrap();
        let back: Delivery = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(back, model, "{yaml}");
    }
}
