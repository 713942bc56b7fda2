//! ECMAScript ToString for the values a case can write, as Web IDL's
//! string conversions call it.

use super::{get, ArgValue, ConversionError};
use crate::message::MessageValue;

/// ECMAScript ToString(argument), as UTF-16 code units.
///
/// <https://tc39.es/ecma262/#sec-tostring>
pub(super) fn to_string(v: &ArgValue) -> Result<Vec<u16>, ConversionError> {
    let text = |s: &str| Ok(s.encode_utf16().collect());
    match v {
        ArgValue::Object(_) => ordinary_to_primitive_string(v),
        ArgValue::Value(m) => match m {
            MessageValue::Undefined => text("undefined"),
            MessageValue::Null => text("null"),
            MessageValue::Bool(b) => text(if *b { "true" } else { "false" }),
            MessageValue::Number(n) => text(&number_to_string(*n)),
            MessageValue::String(units) => Ok(units.clone()),
            // "Symbol: Throw a TypeError exception."
            MessageValue::Symbol(_) => Err(ConversionError::TypeError(
                "ToString: a Symbol cannot be converted to a string".into(),
            )),
            // "Object: Let primValue be ? ToPrimitive(argument, string)."
            // An array's toString is Array.prototype.toString (a case's
            // arrays have no other own properties).
            MessageValue::Array(items) => array_join(items),
            MessageValue::Object(_) => ordinary_to_primitive_string(v),
            // Object.prototype.toString: "[object " + builtinTag + "]".
            MessageValue::Buffer { .. } => text("[object ArrayBuffer]"),
            // MessagePort.prototype[%Symbol.toStringTag%] is "MessagePort"
            // (Web IDL's class string of an interface prototype object).
            MessageValue::Port(_) => text("[object MessagePort]"),
            // Function.prototype.toString returns the function's source
            // text. NOTE: the agent builds every `$function` as
            // `function pmconfFunction() {}`.
            MessageValue::Function(_) => text("function pmconfFunction() {}"),
            // NOTE: refused after the message by `ArgValue::from_yaml`, so
            // never converted here.
            other => Err(ConversionError::TypeError(format!(
                "ToString of {} is not modelled",
                super::arg_value::unconverted_kind(other).unwrap_or("this value")
            ))),
        },
    }
}

/// Array.prototype.toString calls join: elements that are undefined or
/// null become the empty string, the others ToString, separated by ",".
///
/// <https://tc39.es/ecma262/#sec-array.prototype.join>
fn array_join(items: &[MessageValue]) -> Result<Vec<u16>, ConversionError> {
    let mut out: Vec<u16> = Vec::new();
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push(u16::from(b','));
        }
        if !matches!(item, MessageValue::Undefined | MessageValue::Null) {
            out.extend(to_string(&ArgValue::Value(item.clone()))?);
        }
    }
    Ok(out)
}

/// ToPrimitive(O, string) for an ordinary object: OrdinaryToPrimitive
/// tries `toString`, then `valueOf`; a callable result that is not an
/// Object is the answer.
///
/// <https://tc39.es/ecma262/#sec-ordinarytoprimitive>
fn ordinary_to_primitive_string(o: &ArgValue) -> Result<Vec<u16>, ConversionError> {
    // 3. For each element name of methodNames (« "toString", "valueOf" »):
    for name in ["toString", "valueOf"] {
        // 3.a. Let method be ? Get(O, name).
        match get(o, name)? {
            // Inherited from Object.prototype: toString answers
            // "[object Object]" (a primitive); valueOf answers O itself (an
            // Object, so the loop goes on).
            None if name == "toString" => return Ok("[object Object]".encode_utf16().collect()),
            None => {}
            // 3.b. If IsCallable(method) is true: let result be ? Call(method,
            //      O); if result is not an Object, return result. NOTE: the
            //      agent's functions return undefined.
            Some(ArgValue::Value(MessageValue::Function(_))) => {
                return Ok("undefined".encode_utf16().collect())
            }
            // Not callable: the next name.
            Some(_) => {}
        }
    }
    // 4. Throw a TypeError exception.
    Err(ConversionError::TypeError(
        "OrdinaryToPrimitive step 4: neither toString nor valueOf gives a primitive".into(),
    ))
}

/// Number::toString(x) with radix 10.
///
/// <https://tc39.es/ecma262/#sec-numeric-types-number-tostring>
fn number_to_string(x: f64) -> String {
    // 1. If x is NaN, return "NaN".
    if x.is_nan() {
        return "NaN".into();
    }
    // 2. If x is either +0 or -0, return "0".
    if x == 0.0 {
        return "0".into();
    }
    // 3. If x < -0, return the string-concatenation of "-" and
    //    Number::toString(-x, radix).
    if x < 0.0 {
        return format!("-{}", number_to_string(-x));
    }
    // 4. If x is +inf, return "Infinity".
    if x.is_infinite() {
        return "Infinity".into();
    }
    // 5. Let n, k, and s be integers such that k >= 1, 10^(n-1) <= s < 10^n
    //    ... and k is as small as possible: the shortest digits that round
    //    trip, which is what Rust's `{:e}` prints.
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` has an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exponent.parse::<i32>().expect("an integer exponent") + 1;
    if k <= n && n <= 21 {
        // 6. The k digits of s followed by n - k zeros.
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        // 7. The most significant n digits, ".", the remaining k - n digits.
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        // 8. "0.", -n zeros, the k digits.
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        // 9-10. Exponential notation: d[.ddd]e(+|-)(n-1).
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let e = (n - 1).abs();
        if k == 1 {
            format!("{digits}e{sign}{e}")
        } else {
            format!("{}.{}e{sign}{e}", &digits[..1], &digits[1..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        for (x, s) in [
            (123.0, "123"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(number_to_string(x), s, "{x}");
        }
    }
}
