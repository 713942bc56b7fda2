//! The `values` family: messages drawn from every structured-clone value
//! kind the model knows (model/src/structured_clone/), with shared
//! references and cycles, and now and then an uncloneable part.
//!
//! Each message is a YAML value in the case syntax, tagged with its family
//! (`values-map`, `values-identity`, ...: the most specific kind in it).

use proptest::prelude::*;
use serde_yaml::{Mapping, Value};

fn s(x: &str) -> Value {
    Value::String(x.to_owned())
}

fn tagged(tag: &str, inner: Value) -> Value {
    let mut m = Mapping::new();
    m.insert(s(tag), inner);
    Value::Mapping(m)
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    let mut m = Mapping::new();
    for (k, v) in entries {
        m.insert(s(k), v);
    }
    Value::Mapping(m)
}

fn int(n: i64) -> Value {
    Value::Number(n.into())
}

const ERROR_NAMES: &[&str] = &[
    "Error",
    "TypeError",
    "RangeError",
    "SyntaxError",
    "EvalError",
    "ReferenceError",
    "URIError",
    "MyError",
];
const REGEXP_SOURCES: &[&str] = &[
    "a", "a+b", "^x$", "", "[0-9]{2}", "(a)|b", "a/b", "\\/c", "x\ny", "[a]/\r",
];
const DOM_EXCEPTION_NAMES: &[&str] = &[
    "DataCloneError",
    "AbortError",
    "NotFoundError",
    "SyntaxError",
    "EncodingError",
    "MyName",
];
/// Values an Error's own `message` can be given after construction
/// (cloned as ToString of it).
fn message_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(tagged("$undefined", Value::Null)),
        Just(Value::Null),
        (-9i64..9).prop_map(int),
        any::<bool>().prop_map(Value::Bool),
        Just(map(vec![("a", int(1))])),
        Just(Value::Sequence(vec![int(1), Value::Null, s("x")])),
    ]
}

/// Every typed array kind, with its element size: the model's list.
const TYPED: [pmconf_model::structured_clone::ViewKind; 11] =
    pmconf_model::structured_clone::ViewKind::TYPED;

/// A leaf: a primitive or an object without anything inside.
fn leaf() -> impl Strategy<Value = (Value, &'static str)> {
    prop_oneof![
        3 => prop_oneof![
            "[a-z]{0,4}".prop_map(Value::String),
            (-100i64..100).prop_map(int),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ]
        .prop_map(|v| (v, "values-plain")),
        1 => (-(1i64 << 62)..(1i64 << 62)).prop_map(|n| (tagged("$bigint", s(&n.to_string())), "values-bigint")),
        1 => prop_oneof![
            any::<bool>().prop_map(|b| tagged("boolean", Value::Bool(b))),
            (-50i64..50).prop_map(|n| tagged("number", int(n))),
            "[a-z]{0,3}".prop_map(|t| tagged("string", Value::String(t))),
            (0i64..1000).prop_map(|n| tagged("bigint", s(&n.to_string()))),
        ]
        .prop_map(|inner| (tagged("$boxed", inner), "values-boxed")),
        1 => prop_oneof![
            (-(1i64 << 45)..(1i64 << 45)).prop_map(int),
            Just(tagged("$number", s("NaN"))),
        ]
        .prop_map(|t| (tagged("$date", t), "values-date")),
        1 => (proptest::sample::select(REGEXP_SOURCES), proptest::sample::subsequence(vec!['g', 'i', 'm', 's', 'u', 'y'], 0..=3), any::<bool>(), 0i64..3)
            .prop_map(|(src, mut flags, reverse, last_index)| {
                if reverse {
                    flags.reverse();
                }
                let flags: String = flags.into_iter().collect();
                let mut fields = vec![("source", s(src)), ("flags", Value::String(flags))];
                if last_index > 0 {
                    fields.push(("last_index", int(last_index)));
                }
                (tagged("$regexp", map(fields)), "values-regexp")
            }),
        1 => (proptest::sample::select(ERROR_NAMES), proptest::option::of("[a-z]{0,5}"), proptest::option::of(message_value()), any::<bool>())
            .prop_map(|(name, message, message_value, with_prop)| {
                let mut fields = vec![("name", s(name))];
                match (message, message_value) {
                    (_, Some(v)) => fields.push(("message_value", v)),
                    (Some(m), None) => fields.push(("message", Value::String(m))),
                    (None, None) => {}
                }
                if with_prop {
                    fields.push(("props", map(vec![("extra", int(1))])));
                }
                (tagged("$error", map(fields)), "values-error")
            }),
        1 => (proptest::sample::select(DOM_EXCEPTION_NAMES), "[a-z ]{0,5}")
            .prop_map(|(name, message)| {
                (tagged("$domexception", map(vec![("name", s(name)), ("message", Value::String(message))])), "values-domexception")
            }),
        1 => (1i64..3, 1i64..3, any::<u8>()).prop_map(|(w, h, seed)| {
            let data = (0..4 * w * h).map(|i| int((i * 37 + i64::from(seed)) % 256)).collect();
            (tagged("$imagedata", map(vec![("width", int(w)), ("height", int(h)), ("data", Value::Sequence(data))])), "values-imagedata")
        }),
        1 => (proptest::collection::vec(any::<u8>(), 0..4), proptest::sample::select(&["", "text/plain", "application/x-pmconf"][..]), proptest::option::of(("[a-z]{1,4}\\.txt", 0i64..2_000_000_000_000)))
            .prop_map(|(bytes, media_type, file)| {
                let bytes = Value::Sequence(bytes.into_iter().map(|b| int(i64::from(b))).collect());
                match file {
                    Some((name, last_modified)) => (tagged("$file", map(vec![("name", Value::String(name)), ("type", s(media_type)), ("last_modified", int(last_modified)), ("bytes", bytes)])), "values-blob"),
                    None => (tagged("$blob", map(vec![("type", s(media_type)), ("bytes", bytes)])), "values-blob"),
                }
            }),
        // A SharedArrayBuffer, fixed-length or growable (`new
        // SharedArrayBuffer(len, {maxByteLength})`): generated cases are
        // never cross-origin isolated, so StructuredSerializeInternal
        // 13.1.1 throws DataCloneError for either, and an engine that
        // cannot make one says so.
        1 => (proptest::collection::vec(any::<u8>(), 0..4), proptest::option::of(0usize..4)).prop_map(|(bytes, extra)| {
            let len = bytes.len();
            let mut fields = vec![("bytes", Value::Sequence(bytes.into_iter().map(|b| int(i64::from(b))).collect()))];
            if let Some(extra) = extra {
                fields.push(("max_byte_length", int((len + extra) as i64)));
            }
            (tagged("$sab", map(fields)), "values-sab")
        }),
        1 => (0..TYPED.len(), 0usize..16, 0usize..16, any::<bool>()).prop_map(|(t, a, b, dataview)| {
            let bytes: Vec<Value> = (0..16).map(|i| int(i * 17 % 256)).collect();
            let buffer = tagged("$buffer", map(vec![("bytes", Value::Sequence(bytes))]));
            if dataview {
                let (offset, end) = (a.min(b), a.max(b));
                let inner = map(vec![("buffer", buffer), ("offset", int(offset as i64)), ("length", int((end - offset) as i64))]);
                return (tagged("$dataview", inner), "values-dataview");
            }
            let (name, size) = (TYPED[t].name(), TYPED[t].element_size());
            let offset = a / size * size;
            let length = (16 - offset) / size;
            let length = if length == 0 { 0 } else { b % (length + 1) };
            let inner = map(vec![("type", s(name)), ("buffer", buffer), ("offset", int(offset as i64)), ("length", int(length as i64))]);
            (tagged("$typed", inner), "values-typed")
        }),
    ]
}

/// A value with containers (arrays, sparse arrays, arrays with extra
/// properties, objects, maps, sets) around leaves.
fn tree() -> impl Strategy<Value = (Value, &'static str)> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec((inner.clone(), any::<u8>()), 0..4).prop_map(|items| {
                let sparse = items.iter().any(|(_, h)| *h < 40);
                let family = if sparse {
                    "values-sparse"
                } else {
                    family_of(&items)
                };
                let list = items
                    .into_iter()
                    .map(|((v, _), h)| {
                        if h < 40 {
                            tagged("$hole", Value::Null)
                        } else {
                            v
                        }
                    })
                    .collect();
                (Value::Sequence(list), family)
            }),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|items| {
                let family = family_of_values(&items);
                let mut m = Mapping::new();
                for (i, (v, _)) in items.into_iter().enumerate() {
                    m.insert(s(&format!("k{i}")), v);
                }
                (Value::Mapping(m), family)
            }),
            (
                proptest::collection::vec(inner.clone(), 0..3),
                inner.clone()
            )
                .prop_map(|(items, (extra, _))| {
                    let list = Value::Sequence(items.into_iter().map(|(v, _)| v).collect());
                    (
                        map(vec![("$array", list), ("extra", extra)]),
                        "values-array-props",
                    )
                }),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..3).prop_map(|pairs| {
                let list = pairs
                    .into_iter()
                    .map(|((k, _), (v, _))| Value::Sequence(vec![k, v]))
                    .collect();
                (tagged("$map", Value::Sequence(list)), "values-map")
            }),
            proptest::collection::vec(inner, 0..4).prop_map(|items| {
                (
                    tagged(
                        "$set",
                        Value::Sequence(items.into_iter().map(|(v, _)| v).collect()),
                    ),
                    "values-set",
                )
            }),
        ]
    })
}

fn family_of(items: &[((Value, &'static str), u8)]) -> &'static str {
    items
        .iter()
        .map(|((_, f), _)| *f)
        .find(|f| *f != "values-plain")
        .unwrap_or("values-plain")
}

fn family_of_values(items: &[(Value, &'static str)]) -> &'static str {
    items
        .iter()
        .map(|(_, f)| *f)
        .find(|f| *f != "values-plain")
        .unwrap_or("values-plain")
}

/// What is added around the drawn tree.
#[derive(Debug, Clone, Copy)]
enum Extra {
    None,
    /// The first object inside gets `$id` and the root a `$ref` to it.
    Shared,
    /// The root refers to itself.
    Cycle,
    /// A property with a throwing getter.
    ThrowingGetter(&'static str),
    /// A DOM node.
    Node,
    /// Non-enumerable and symbol-keyed properties holding a function.
    Hidden,
}

fn extra() -> impl Strategy<Value = Extra> {
    prop_oneof![
        6 => Just(Extra::None),
        3 => Just(Extra::Shared),
        2 => Just(Extra::Cycle),
        1 => proptest::sample::select(&["TypeError", "RangeError", "URIError"][..]).prop_map(Extra::ThrowingGetter),
        1 => Just(Extra::Node),
        1 => Just(Extra::Hidden),
    ]
}

/// A message of the `values` family.
pub fn values_message() -> impl Strategy<Value = (Value, &'static str)> {
    (tree(), extra()).prop_map(|((value, family), extra)| {
        // The root is always an object, so the extras have a place.
        let mut root = match value {
            Value::Mapping(m)
                if !m
                    .keys()
                    .any(|k| k.as_str().is_some_and(|k| k.starts_with('$'))) =>
            {
                m
            }
            other => {
                let mut m = Mapping::new();
                m.insert(s("v"), other);
                m
            }
        };
        let family = match extra {
            Extra::None => family,
            Extra::Shared => match first_object(&mut root) {
                Some(target) => {
                    target.insert(s("$id"), s("shared"));
                    root.insert(s("again"), tagged("$ref", s("shared")));
                    "values-identity"
                }
                None => family,
            },
            Extra::Cycle => {
                root.insert(s("$id"), s("root"));
                root.insert(s("self"), tagged("$ref", s("root")));
                "values-cycle"
            }
            Extra::ThrowingGetter(name) => {
                root.insert(s("getter"), tagged("$throwing_getter", s(name)));
                "values-throwing-getter"
            }
            Extra::Node => {
                root.insert(s("node"), tagged("$node", s("div")));
                "values-node"
            }
            Extra::Hidden => {
                root.insert(
                    s("$non_enumerable"),
                    map(vec![("f", tagged("$function", s("f")))]),
                );
                root.insert(
                    s("$symbol_keyed"),
                    map(vec![("g", tagged("$function", s("g")))]),
                );
                "values-hidden"
            }
        };
        (Value::Mapping(root), family)
    })
}

/// The first object value (a plain map, or a tagged object kind) inside
/// `root`'s properties, depth first, that can carry `$id`.
fn first_object(root: &mut Mapping) -> Option<&mut Mapping> {
    for (_, v) in root.iter_mut() {
        if let Some(m) = object_in(v) {
            return Some(m);
        }
    }
    None
}

fn object_in(v: &mut Value) -> Option<&mut Mapping> {
    match v {
        Value::Mapping(m) => {
            let tag = m
                .keys()
                .filter_map(|k| k.as_str())
                .find(|k| k.starts_with('$'))
                .map(str::to_owned);
            match tag.as_deref() {
                None
                | Some(
                    "$map" | "$set" | "$date" | "$regexp" | "$error" | "$boxed" | "$typed"
                    | "$dataview" | "$array",
                ) => {
                    if m.contains_key("$id") {
                        None
                    } else {
                        Some(m)
                    }
                }
                _ => None,
            }
        }
        Value::Sequence(items) => items.iter_mut().find_map(object_in),
        _ => None,
    }
}

/// Shrinking help for the greedy pass: the case with one property of one
/// post's (top-level object) message left out, for each such property.
pub fn fewer_properties(case: &super::GenCase) -> Vec<super::GenCase> {
    let mut out = Vec::new();
    for (i, post) in case.posts.iter().enumerate() {
        let Value::Mapping(m) = &post.message.0 else {
            continue;
        };
        for key in m.keys() {
            if key.as_str().is_some_and(|k| {
                k.starts_with('$') && k != "$non_enumerable" && k != "$symbol_keyed"
            }) {
                continue;
            }
            let mut c = case.clone();
            if let Value::Mapping(m) = &mut c.posts[i].message.0 {
                m.shift_remove(key);
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::message::MessageValue;
    use proptest::strategy::ValueTree;
    use std::collections::BTreeSet;

    #[test]
    fn fewer_properties_leaves_out_one_property_at_a_time() {
        let mut runner = crate::gen::runner_for_seed(5);
        let mut case = crate::gen::gen_case_with(crate::gen::MessageFamily::Values)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        case.posts.truncate(1);
        case.posts[0].message.0 =
            serde_yaml::from_str("{$id: r, a: 1, self: {$ref: r}, $non_enumerable: {f: 2}}")
                .unwrap();
        let variants = fewer_properties(&case);
        let keys: Vec<Vec<String>> = variants
            .iter()
            .map(|c| {
                c.posts[0]
                    .message
                    .0
                    .as_mapping()
                    .unwrap()
                    .keys()
                    .map(|k| k.as_str().unwrap().to_owned())
                    .collect()
            })
            .collect();
        assert_eq!(
            keys,
            [
                vec!["$id", "self", "$non_enumerable"],
                vec!["$id", "a", "$non_enumerable"],
                vec!["$id", "a", "self"],
            ]
        );
    }

    #[test]
    fn every_drawn_message_is_a_valid_value_and_every_family_shows_up() {
        let mut runner = crate::gen::runner_for_seed(3);
        let strategy = values_message();
        let mut families = BTreeSet::new();
        for _ in 0..600 {
            let (yaml, family) = strategy.new_tree(&mut runner).unwrap().current();
            if let Err(e) = MessageValue::from_yaml(&yaml) {
                panic!("{e}: {}", serde_yaml::to_string(&yaml).unwrap());
            }
            families.insert(family);
        }
        for f in [
            "values-map",
            "values-set",
            "values-identity",
            "values-cycle",
            "values-sparse",
            "values-typed",
            "values-throwing-getter",
            "values-node",
            "values-hidden",
            "values-domexception",
            "values-imagedata",
            "values-blob",
            "values-regexp",
            "values-error",
            "values-sab",
        ] {
            assert!(families.contains(f), "{f} never drawn: {families:?}");
        }
    }
}
