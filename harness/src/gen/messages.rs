//! Message values within what the model supports.

use proptest::prelude::*;
use serde_yaml::{Mapping, Value};

fn tagged(tag: &str, inner: Value) -> Value {
    let mut m = Mapping::new();
    m.insert(Value::String(tag.into()), inner);
    Value::Mapping(m)
}

/// A message: plain values first (shrinking prefers them), then special
/// numbers, lone surrogates, undefined, nested values and, rarely, a
/// function (which must throw DataCloneError, after any SyntaxError).
pub fn message() -> impl Strategy<Value = (Value, &'static str)> {
    let leaf = prop_oneof![
        "[a-z]{0,6}".prop_map(Value::String),
        (-1000i64..1000).prop_map(|n| Value::Number(n.into())),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    prop_oneof![
        8 => leaf.clone().prop_map(|v| (v, "plain")),
        1 => proptest::sample::select(&["NaN", "-0", "Infinity"][..])
            .prop_map(|n| (tagged("$number", Value::String(n.into())), "special-number")),
        1 => (0xD800u16..=0xDFFF).prop_map(|u| (tagged("$utf16", Value::Sequence(vec![Value::Number(97.into()), Value::Number(u.into())])), "lone-surrogate")),
        1 => Just((tagged("$undefined", Value::Null), "undefined")),
        2 => proptest::collection::vec(leaf, 0..3).prop_map(|items| {
            let mut m = Mapping::new();
            for (i, v) in items.into_iter().enumerate() {
                m.insert(Value::String(format!("k{i}")), v);
            }
            (Value::Mapping(m), "object")
        }),
        1 => Just((tagged("$function", Value::String("f".into())), "uncloneable")),
    ]
}
