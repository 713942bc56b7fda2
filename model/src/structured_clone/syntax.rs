//! The tagged forms of the value kinds beyond JSON, read from a case and
//! written back for the page that builds them.
//!
//! | form | JavaScript value |
//! |---|---|
//! | `{$bigint: "-12"}` | `-12n` |
//! | `{$boxed: {number: 1}}` (`boolean`, `string`, `bigint`, `symbol`) | `new Number(1)`, `Object(1n)`... |
//! | `{$date: 0}` | `new Date(0)` |
//! | `{$regexp: {source: "a+", flags: "gi"}}` | `new RegExp("a+", "gi")` |
//! | `{$map: [[k, v], ...]}`, `{$set: [v, ...]}` | `new Map(...)`, `new Set(...)` |
//! | `{$error: {name: TypeError, message: m, constructor: Error}}` | `new Error(m)` with `name` set (constructor defaults to name, or `Error`) |
//! | `{$error: {name: TypeError, message: m, realm: W}}` | `new W.TypeError(m)`: made by window `W`'s realm's constructor |
//! | `{$typed: {type: Uint16Array, buffer: b1, offset: 2, length: 3}}` | `new Uint16Array(b1, 2, 3)`; `buffer` names a `$buffer` of the message or is one |
//! | `{$dataview: {buffer: b1, offset: 1, length: 2}}` | `new DataView(b1, 1, 2)` |
//! | `[1, {$hole: null}, 3]` | `[1, , 3]` (sparse) |
//! | `{$array: [1, 2], k: v}` | an array with an extra property |
//! | `{$id: x, ...}` on any object, `{$ref: x}` | the same object again (shared, or a cycle) |
//! | `{$non_enumerable: {k: v}, $symbol_keyed: {d: v}, ...}` on an object or `$array` | properties serialization never reads |
//! | `{$node: div}` | `document.createElement("div")` (not serializable) |
//! | `{k: {$throwing_getter: TypeError}}` | a getter for `k` that throws a `TypeError` |

use super::{Names, ViewKind, SERIALIZABLE_ERROR_NAMES};
use crate::message::{
    array_index, bytes_json, sab_json, tagged, MessageFormatError, MessageValue, SharedBufferData,
};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

fn err(path: &str, reason: impl Into<String>) -> MessageFormatError {
    MessageFormatError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn at(path: &str, more: &str) -> String {
    format!("{path}{more}")
}

/// Reads a YAML/JSON map: a plain object, or a tagged value with its
/// modifiers (`$id`, `$non_enumerable`, `$symbol_keyed`).
pub fn parse_object(
    map: &Map<String, Json>,
    path: &mut String,
    read: fn(&Json, &mut String) -> Result<MessageValue, MessageFormatError>,
) -> Result<MessageValue, MessageFormatError> {
    let mut id = None;
    let mut main: Option<&str> = None;
    let mut non_enumerable = Vec::new();
    let mut symbol_keyed = Vec::new();
    let mut hidden = false;
    for (k, v) in map.iter().filter(|(k, _)| k.starts_with('$')) {
        match k.as_str() {
            "$id" => match v {
                Json::String(s) if !s.is_empty() => id = Some(s.clone()),
                _ => return Err(err(path, "$id takes a non-empty name")),
            },
            "$non_enumerable" | "$symbol_keyed" => {
                let obj = v
                    .as_object()
                    .ok_or_else(|| err(path, format!("{k} takes a map of properties")))?;
                hidden = true;
                let mut list = Vec::new();
                for (pk, pv) in obj {
                    let mut p = at(path, &format!(".{k}.{pk}"));
                    list.push((pk.clone(), read(pv, &mut p)?));
                }
                if k == "$non_enumerable" {
                    non_enumerable = list;
                } else {
                    symbol_keyed = list;
                }
            }
            other => {
                if let Some(first) = main {
                    return Err(err(
                        path,
                        format!("a value has one tag; this map has {first} and {other}"),
                    ));
                }
                main = Some(other);
            }
        }
    }
    let plain: Vec<(&String, &Json)> = map.iter().filter(|(k, _)| !k.starts_with('$')).collect();
    let read_props =
        |path: &mut String| -> Result<Vec<(String, MessageValue)>, MessageFormatError> {
            let mut out = Vec::with_capacity(plain.len());
            for (k, v) in &plain {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                out.push(((*k).clone(), read(v, path)?));
                path.truncate(len);
            }
            Ok(out)
        };
    let value = match main {
        None => MessageValue::Object(read_props(path)?),
        Some("$array") => {
            let items = match &map["$array"] {
                Json::Array(_) => match read(&map["$array"], path)? {
                    MessageValue::Array(items) => items,
                    _ => unreachable!("a JSON list reads as an array"),
                },
                _ => return Err(err(path, "$array takes a list of items")),
            };
            if let Some((k, _)) = plain
                .iter()
                .find(|(k, _)| array_index(k).is_some() || *k == "length")
            {
                return Err(err(
                    path,
                    format!("`{k}` cannot be an extra property of an array (write items in the $array list)"),
                ));
            }
            let props = read_props(path)?;
            if props.is_empty() {
                MessageValue::Array(items)
            } else {
                MessageValue::ArrayWithProps { items, props }
            }
        }
        Some(tag) => {
            if !plain.is_empty() || hidden || (map.len() > 1 && id.is_none()) || map.len() > 2 {
                return Err(err(
                    path,
                    format!("a tagged value ({tag}) must be a map with that one key (only $id may go beside it, and only $array and plain objects take properties)"),
                ));
            }
            crate::message::from_tagged_pub(tag, &map[tag], path)?
        }
    };
    let value = if hidden {
        MessageValue::Unlisted {
            value: Box::new(value),
            non_enumerable,
            symbol_keyed,
        }
    } else {
        value
    };
    match id {
        None => Ok(value),
        Some(id) if is_object_kind(&value) => Ok(MessageValue::Identified {
            id,
            value: Box::new(value),
        }),
        Some(id) => Err(err(
            path,
            format!("$id `{id}` names a value that is not an object that can be serialized (a $buffer is named by its id field)"),
        )),
    }
}

fn is_object_kind(value: &MessageValue) -> bool {
    match value {
        MessageValue::Array(_)
        | MessageValue::ArrayWithProps { .. }
        | MessageValue::Object(_)
        | MessageValue::Unlisted { .. }
        | MessageValue::Boxed(_)
        | MessageValue::Date(_)
        | MessageValue::RegExp { .. }
        | MessageValue::Map(_)
        | MessageValue::Set(_)
        | MessageValue::Error { .. }
        | MessageValue::View { .. }
        | MessageValue::SharedBuffer(_)
        | MessageValue::DomException { .. }
        | MessageValue::ImageData { .. }
        | MessageValue::Blob { .. } => true,
        MessageValue::Undefined
        | MessageValue::Null
        | MessageValue::Bool(_)
        | MessageValue::Number(_)
        | MessageValue::String(_)
        | MessageValue::Buffer { .. }
        | MessageValue::Function(_)
        | MessageValue::Symbol(_)
        | MessageValue::Hole
        | MessageValue::BigInt(_)
        | MessageValue::Identified { .. }
        | MessageValue::Ref(_)
        | MessageValue::Node(_)
        | MessageValue::Port(_)
        | MessageValue::ThrowingGetter(_) => false,
    }
}

fn name_string(inner: &Json, path: &str, tag: &str) -> Result<String, MessageFormatError> {
    match inner {
        Json::String(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(err(path, format!("{tag} takes a name string"))),
    }
}

/// Reads the value of one of this module's tags; `None` for a tag it does
/// not know.
pub fn parse_tag(
    tag: &str,
    inner: &Json,
    path: &str,
    read: fn(&Json, &mut String) -> Result<MessageValue, MessageFormatError>,
) -> Option<Result<MessageValue, MessageFormatError>> {
    Some(match tag {
        "$hole" => match inner {
            Json::Null => Ok(MessageValue::Hole),
            _ => Err(err(path, "$hole takes null: {$hole: null}")),
        },
        "$bigint" => bigint(inner, path).map(MessageValue::BigInt),
        "$ref" => name_string(inner, path, "$ref").map(MessageValue::Ref),
        "$node" => match inner {
            Json::Null => Ok(MessageValue::Node("div".into())),
            Json::String(s) if s.chars().all(|c| c.is_ascii_alphanumeric()) && !s.is_empty() => {
                Ok(MessageValue::Node(s.clone()))
            }
            _ => Err(err(path, "$node takes an element name like div (or null)")),
        },
        "$throwing_getter" => name_string(inner, path, "$throwing_getter")
            .and_then(|n| check_ident(&n, path).map(|()| MessageValue::ThrowingGetter(n))),
        "$date" => number(inner, path, read)
            .map(|t| MessageValue::Date(time_clip(t)))
            .map_err(|_| {
                err(
                    path,
                    "$date takes a time value in ms: a number, or {$number: NaN}",
                )
            }),
        "$regexp" => regexp(inner, path),
        "$boxed" => boxed(inner, path, read),
        "$map" => map(inner, path, read),
        "$set" => set(inner, path, read),
        "$error" => error(inner, path, read),
        "$typed" | "$dataview" => view(tag, inner, path, read),
        "$array" | "$id" | "$non_enumerable" | "$symbol_keyed" => Err(err(
            path,
            format!("{tag} goes in a map with other keys, e.g. {{$id: x, $array: [1]}}"),
        )),
        _ => return None,
    })
}

fn check_ident(name: &str, path: &str) -> Result<(), MessageFormatError> {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(err(
            path,
            format!("`{name}` is not an error name (letters, digits, _)"),
        ))
    }
}

fn bigint(inner: &Json, path: &str) -> Result<String, MessageFormatError> {
    let s = inner.as_str().ok_or_else(|| {
        err(
            path,
            "$bigint takes its decimal digits as a string, e.g. \"-12\"",
        )
    })?;
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(err(
            path,
            format!("`{s}` is not a decimal BigInt (digits, `-` first if negative)"),
        ));
    }
    let trimmed = digits.trim_start_matches('0');
    Ok(match (neg, trimmed) {
        (_, "") => "0".into(),
        (true, t) => format!("-{t}"),
        (false, t) => t.into(),
    })
}

fn number(
    inner: &Json,
    path: &str,
    read: fn(&Json, &mut String) -> Result<MessageValue, MessageFormatError>,
) -> Result<f64, MessageFormatError> {
    match read(inner, &mut path.to_owned())? {
        MessageValue::Number(n) => Ok(n),
        _ => Err(err(path, "expected a number")),
    }
}

/// TimeClip, which the Date constructor applies to its argument.
///
/// <https://tc39.es/ecma262/#sec-timeclip>
pub fn time_clip(time: f64) -> f64 {
    // 1. If time is not finite, return NaN.
    // 2. If abs(ℝ(time)) > 8.64 × 10^15, return NaN.
    if !time.is_finite() || time.abs() > 8.64e15 {
        return f64::NAN;
    }
    // 3. Return 𝔽(! ToIntegerOrInfinity(time)). (-0 becomes +0.)
    time.trunc() + 0.0
}

fn regexp(inner: &Json, path: &str) -> Result<MessageValue, MessageFormatError> {
    let obj = inner
        .as_object()
        .ok_or_else(|| err(path, "$regexp takes {source: ..., flags: ...}"))?;
    if let Some(k) = obj
        .keys()
        .find(|k| !["source", "flags", "last_index"].contains(&k.as_str()))
    {
        return Err(err(
            path,
            format!("$regexp has no field `{k}` (fields: source, flags, last_index)"),
        ));
    }
    let last_index = match obj.get("last_index") {
        None => 0,
        Some(j) => j
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| err(path, "$regexp's last_index must be a whole number"))?,
    };
    let text = |k: &str| match obj.get(k) {
        None => Ok(String::new()),
        Some(Json::String(s)) => Ok(s.clone()),
        Some(_) => Err(err(path, format!("$regexp's {k} must be a string"))),
    };
    let source = text("source")?;
    let flags = text("flags")?;
    if slash_in_class(&source) {
        return Err(err(
            path,
            "$regexp's source may not hold `/` inside a character class (EscapeRegExpPattern escapes it only \"as necessary\", and engines differ there); use \\x2f",
        ));
    }
    let mut seen = String::new();
    for c in flags.chars() {
        if !"dgimsuy".contains(c) || seen.contains(c) {
            return Err(err(
                path,
                format!("$regexp flags `{flags}`: each of d g i m s u y at most once"),
            ));
        }
        seen.push(c);
    }
    Ok(MessageValue::RegExp {
        source,
        flags,
        last_index,
    })
}

/// Whether an unescaped `/` stands inside a character class `[...]`.
fn slash_in_class(source: &str) -> bool {
    let (mut escaped, mut in_class) = (false, false);
    for c in source.chars() {
        if !escaped {
            match c {
                '[' => in_class = true,
                ']' => in_class = false,
                '/' if in_class => return true,
                _ => {}
            }
        }
        escaped = c == '\\' && !escaped;
    }
    false
}

fn boxed(
    inner: &Json,
    path: &str,
    read: fn(&Json, &mut String) -> Result<MessageValue, MessageFormatError>,
) -> Result<MessageValue, MessageFormatError> {
    let usage = "$boxed takes one of {boolean: true}, {number: 1}, {string: s}, {bigint: \"1\"}, {symbol: description}";
    let obj = inner
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| err(path, usage))?;
    let (k, v) = obj.iter().next().expect("one entry");
    let prim = match (k.as_str(), read(v, &mut path.to_owned())?) {
        ("boolean", b @ MessageValue::Bool(_)) => b,
        ("number", n @ MessageValue::Number(_)) => n,
        ("string", s @ MessageValue::String(_)) => s,
        ("bigint", MessageValue::String(_)) => MessageValue::BigInt(bigint(v, path)?),
        ("symbol", MessageValue::String(_)) => {
            MessageValue::Symbol(v.as_str().unwrap_or_default().to_owned())
        }
        _ => return Err(err(path, usage)),
    };
    Ok(MessageValue::Boxed(Box::new(prim)))
}

fn pairs(inner: &Json, path: &str, tag: &str) -> Result<Vec<Json>, MessageFormatError> {
    inner
        .as_array()
        .cloned()
        .ok_or_else(|| err(path, format!("{tag} takes a list")))
}

/// Map.prototype.set and Set.prototype.add: keys compare by SameValueZero
/// (-0 is stored as +0); an object key is one object only when it is the
/// same `$id`/`$ref`/buffer id.
fn same_value_zero_key(v: &MessageValue) -> Option<String> {
    match v {
        MessageValue::Undefined => Some("undefined".into()),
        MessageValue::Null => Some("null".into()),
        MessageValue::Bool(b) => Some(format!("bool:{b}")),
        MessageValue::Number(n) if n.is_nan() => Some("number:NaN".into()),
        MessageValue::Number(n) => Some(format!("number:{}", n + 0.0)),
        MessageValue::String(u) => Some(format!("string:{u:?}")),
        MessageValue::BigInt(d) => Some(format!("bigint:{d}")),
        MessageValue::Identified { id, .. } | MessageValue::Ref(id) => Some(format!("object:{id}")),
        MessageValue::Buffer { id: Some(id), .. } => Some(format!("object:{id}")),
        _ => None,
    }
}

fn normalize_zero(v: MessageValue) -> MessageValue {
    match v {
        // "If key is -0𝔽, set key to +0𝔽."
        MessageValue::Number(n) => MessageValue::Number(n + 0.0),
        other => other,
    }
}

fn map(
    inner: &Json,
    path: &str,
    read: fn(&Json, &mut String) -> Result<MessageValue, MessageFormatError>,
) -> Result<MessageValue, MessageFormatError> {
    let mut out: Vec<(MessageValue, MessageValue)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (i, pair) in pairs(inner, path, "$map")?.iter().enumerate() {
        let p = at(path, &format!(".$map[{i}]"));
        let [k, v] = pair.as_array().map(Vec::as_slice).unwrap_or_default() else {
            return Err(err(&p, "each $map entry is a [key, value] pair"));
        };
        let key = normalize_zero(read(k, &mut at(&p, "[0]"))?);
        let value = read(v, &mut at(&p, "[1]"))?;
        match same_value_zero_key(&key).and_then(|s| index.get(&s).copied()) {
            Some(j) => out[j].1 = value,
            None => {
                if let Some(s) = same_value_zero_key(&key) {
                    index.insert(s, out.len());
                }
                out.push((key, value));
            }
        }
    }
    Ok(MessageValue::Map(out))
}

fn set(
    inner: &Json,
    path: &str,
    read: fn(&Json, &mut String) -> Result<MessageValue, MessageFormatError>,
) -> Result<MessageValue, MessageFormatError> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (i, item) in pairs(inner, path, "$set")?.iter().enumerate() {
        let v = normalize_zero(read(item, &mut at(path, &format!(".$set[{i}]")))?);
        if let Some(s) = same_value_zero_key(&v) {
            if seen.contains(&s) {
                continue;
            }
            seen.push(s);
        }
        out.push(v);
    }
    Ok(MessageValue::Set(out))
}

fn error(
    inner: &Json,
    path: &str,
    read: fn(&Json, &mut String) -> Result<MessageValue, MessageFormatError>,
) -> Result<MessageValue, MessageFormatError> {
    let obj = inner
        .as_object()
        .ok_or_else(|| err(path, "$error takes {name: TypeError, message: text}"))?;
    const FIELDS: [&str; 6] = [
        "name",
        "message",
        "constructor",
        "message_value",
        "props",
        "realm",
    ];
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(err(
            path,
            format!("$error has no field `{k}` (fields: {})", FIELDS.join(", ")),
        ));
    }
    if obj.contains_key("message") && obj.contains_key("message_value") {
        return Err(err(
            path,
            "$error takes `message` (a string given to the constructor) or `message_value` (any value assigned to `message` afterwards), not both",
        ));
    }
    let message_value = match obj.get("message_value") {
        None => None,
        Some(j) => {
            let v = read(j, &mut at(path, ".message_value"))?;
            if crate::call_args::to_string_of(&v).is_err() && !matches!(v, MessageValue::Symbol(_))
            {
                return Err(err(
                    path,
                    "$error's message_value must be a primitive, a plain object or an array of primitives (ToString of anything else is not modelled)",
                ));
            }
            Some(Box::new(v))
        }
    };
    let mut props = Vec::new();
    if let Some(p) = obj.get("props") {
        let p = p
            .as_object()
            .ok_or_else(|| err(path, "$error's props takes a map of properties"))?;
        for (k, v) in p {
            if k == "message" || k == "name" {
                return Err(err(
                    path,
                    format!("$error's props may not set `{k}`: use its own field"),
                ));
            }
            props.push((k.clone(), read(v, &mut at(path, &format!(".props.{k}")))?));
        }
    }
    let text = |k: &str| match obj.get(k) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(path, format!("$error's {k} must be a string"))),
    };
    let name = text("name")?.unwrap_or_else(|| "Error".into());
    let message = text("message")?;
    let constructor = match text("constructor")? {
        Some(c) => c,
        None if SERIALIZABLE_ERROR_NAMES.contains(&name.as_str()) => name.clone(),
        None => "Error".into(),
    };
    if !SERIALIZABLE_ERROR_NAMES.contains(&constructor.as_str()) {
        return Err(err(
            path,
            format!(
                "$error's constructor `{constructor}` is not one of {}",
                SERIALIZABLE_ERROR_NAMES.join(", ")
            ),
        ));
    }
    let realm = text("realm")?;
    if let Some(r) = &realm {
        if r.is_empty()
            || !r
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(err(
                path,
                format!("$error's realm `{r}` is not a window name"),
            ));
        }
    }
    Ok(MessageValue::Error {
        name,
        constructor,
        message,
        message_value,
        props,
        realm,
    })
}

fn view(
    tag: &str,
    inner: &Json,
    path: &str,
    read: fn(&Json, &mut String) -> Result<MessageValue, MessageFormatError>,
) -> Result<MessageValue, MessageFormatError> {
    let usage = if tag == "$typed" {
        "$typed takes {type: Uint8Array, buffer: ID or {$buffer: ...}, offset: 0, length: N}"
    } else {
        "$dataview takes {buffer: ID or {$buffer: ...}, offset: 0, length: N}"
    };
    let obj = inner.as_object().ok_or_else(|| err(path, usage))?;
    let fields: &[&str] = if tag == "$typed" {
        &["type", "buffer", "offset", "length"]
    } else {
        &["buffer", "offset", "length"]
    };
    if let Some(k) = obj.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(err(path, format!("{tag} has no field `{k}`; {usage}")));
    }
    let kind = if tag == "$typed" {
        let name = obj.get("type").and_then(Json::as_str).unwrap_or_default();
        ViewKind::typed_from_name(name).ok_or_else(|| {
            err(
                path,
                format!(
                    "$typed's type `{name}` is not one of {}",
                    ViewKind::TYPED.map(|k| k.name()).join(", ")
                ),
            )
        })?
    } else {
        ViewKind::DataView
    };
    let buffer = match obj.get("buffer") {
        Some(Json::String(id)) => MessageValue::Ref(id.clone()),
        Some(j @ Json::Object(_)) => match read(j, &mut at(path, ".buffer"))? {
            b @ (MessageValue::Buffer { .. }
            | MessageValue::Ref(_)
            | MessageValue::SharedBuffer(_)) => b,
            MessageValue::Identified { id, value }
                if matches!(*value, MessageValue::SharedBuffer(_)) =>
            {
                MessageValue::Identified { id, value }
            }
            _ => {
                return Err(err(
                    path,
                    format!("{tag}'s buffer must be a $buffer or name one"),
                ))
            }
        },
        _ => return Err(err(path, usage)),
    };
    let size = |k: &str| match obj.get(k) {
        None => Ok(None),
        Some(j) => j
            .as_u64()
            .map(|n| Some(n as usize))
            .ok_or_else(|| err(path, format!("{tag}'s {k} must be a whole number"))),
    };
    let offset = size("offset")?.unwrap_or(0);
    let tracking = obj.get("length") == Some(&Json::String("auto".into()));
    let length = if tracking {
        0
    } else {
        size("length")
            .map_err(|_| {
                err(
                    path,
                    format!("{tag}'s length must be a whole number, or auto (length-tracking)"),
                )
            })?
            .ok_or_else(|| err(path, usage))?
    };
    Ok(MessageValue::View {
        kind,
        buffer: Box::new(buffer),
        offset,
        length,
        tracking,
    })
}

/// Checks what one value can only tell as a whole: names defined once and
/// every `$ref` resolved, views inside their buffers, holes only as array
/// items, throwing getters only as property values.
pub fn check(value: &MessageValue) -> Result<(), MessageFormatError> {
    let names = Names::of(value);
    let mut ids = BTreeMap::new();
    check_at(value, &names, &mut ids, Place::Value)
}

#[derive(Clone, Copy, PartialEq)]
enum Place {
    Value,
    Property,
    Item,
}

fn check_at<'a>(
    value: &'a MessageValue,
    names: &Names<'a>,
    ids: &mut BTreeMap<&'a str, &'static str>,
    place: Place,
) -> Result<(), MessageFormatError> {
    let here = |why: String| Err(err("", why));
    if let MessageValue::Identified { id, .. } = value {
        if ids.insert(id, "$id").is_some() {
            return here(format!("`{id}` is defined twice (by $id or a $buffer id)"));
        }
    }
    match value {
        MessageValue::Hole if place != Place::Item => {
            return here("{$hole: null} can only be an array item".into())
        }
        MessageValue::ThrowingGetter(_) if place == Place::Value => {
            return here(
                "$throwing_getter can only be the value of an object's (or array's) property"
                    .into(),
            )
        }
        MessageValue::Buffer { id: Some(id), .. } => {
            if ids.get(id.as_str()) == Some(&"$id") {
                return here(format!("`{id}` is defined twice (by $id and a $buffer id)"));
            }
            ids.insert(id, "buffer");
        }
        MessageValue::Ref(id) if names.get(id).is_none() => {
            return here(format!(
                "{{$ref: {id}}} names no `$id` or `$buffer` id of this message"
            ))
        }
        MessageValue::View {
            kind,
            buffer,
            offset,
            length,
            tracking,
        } => {
            let (_, target) = names.resolve(buffer);
            let tracking = *tracking;
            if tracking
                && !matches!(
                    target,
                    MessageValue::Buffer {
                        max_byte_length: Some(_),
                        ..
                    } | MessageValue::SharedBuffer(SharedBufferData {
                        max_byte_length: Some(_),
                        ..
                    })
                )
            {
                return here(format!(
                    "a length-tracking {} needs a resizable $buffer or a growable $sab (max_byte_length)",
                    kind.name()
                ));
            }
            let (MessageValue::Buffer { bytes, .. }
            | MessageValue::SharedBuffer(SharedBufferData { bytes, .. })) = target
            else {
                return here(format!(
                    "the {} names no $buffer or $sab of this message",
                    kind.name()
                ));
            };
            let size = kind.element_size();
            if offset % size != 0 {
                return here(format!(
                    "a {}'s offset must be a multiple of {size} (RangeError)",
                    kind.name()
                ));
            }
            if !tracking && offset + length * size > bytes.len()
                || tracking && *offset > bytes.len()
            {
                return here(format!(
                    "a {} at offset {offset} with length {length} does not fit its {}-byte buffer (RangeError)",
                    kind.name(),
                    bytes.len()
                ));
            }
        }
        _ => {}
    }
    let is_properties = matches!(
        value,
        MessageValue::Array(_) | MessageValue::ArrayWithProps { .. } | MessageValue::Object(_)
    );
    for child in super::children(value) {
        let place = match value {
            MessageValue::Array(_) => Place::Item,
            MessageValue::ArrayWithProps { items, .. }
                if items.iter().any(|i| std::ptr::eq(i, child)) =>
            {
                Place::Item
            }
            _ if is_properties => Place::Property,
            _ => Place::Value,
        };
        check_at(child, names, ids, place)?;
    }
    Ok(())
}

/// The tagged form a page needs to build `value` exactly as written
/// (names, refs and hidden properties kept).
pub fn to_tagged(value: &MessageValue) -> Json {
    let list = |items: &[MessageValue]| Json::Array(items.iter().map(to_tagged).collect());
    let props = |out: &mut Map<String, Json>, entries: &[(String, MessageValue)]| {
        for (k, v) in entries {
            out.insert(k.clone(), to_tagged(v));
        }
    };
    match value {
        MessageValue::Port(name) => tagged("$port", Json::String(name.clone())),
        MessageValue::SharedBuffer(sab) => sab_json(sab),
        MessageValue::Buffer {
            id,
            bytes,
            max_byte_length,
            resize,
        } => {
            let mut inner = Map::new();
            if let Some(id) = id {
                inner.insert("id".into(), Json::String(id.clone()));
            }
            inner.insert("bytes".into(), bytes_json(bytes));
            if let Some(m) = max_byte_length {
                inner.insert("max_byte_length".into(), Json::from(*m));
            }
            if let Some(r) = resize {
                inner.insert("resize".into(), Json::from(*r));
            }
            tagged("$buffer", Json::Object(inner))
        }
        MessageValue::Array(items) => list(items),
        MessageValue::ArrayWithProps {
            items,
            props: extra,
        } => {
            let mut out = Map::new();
            out.insert("$array".into(), list(items));
            props(&mut out, extra);
            Json::Object(out)
        }
        MessageValue::Object(entries) => {
            let mut out = Map::new();
            props(&mut out, entries);
            Json::Object(out)
        }
        MessageValue::Map(entries) => tagged(
            "$map",
            Json::Array(
                entries
                    .iter()
                    .map(|(k, v)| Json::Array(vec![to_tagged(k), to_tagged(v)]))
                    .collect(),
            ),
        ),
        MessageValue::Set(items) => tagged("$set", list(items)),
        MessageValue::View {
            kind,
            buffer,
            offset,
            length,
            tracking,
        } => {
            let buffer = match buffer.as_ref() {
                MessageValue::Ref(id) => Json::String(id.clone()),
                other => to_tagged(other),
            };
            super::view_json(*kind, buffer, *offset, (!*tracking).then_some(*length))
        }
        MessageValue::Error {
            name,
            constructor,
            message,
            message_value,
            props: extra,
            realm,
        } => {
            let mut inner = Map::new();
            inner.insert("name".into(), Json::String(name.clone()));
            inner.insert("constructor".into(), Json::String(constructor.clone()));
            if let Some(r) = realm {
                inner.insert("realm".into(), Json::String(r.clone()));
            }
            if let Some(m) = message {
                inner.insert("message".into(), Json::String(m.clone()));
            }
            if let Some(v) = message_value {
                inner.insert("message_value".into(), to_tagged(v));
            }
            if !extra.is_empty() {
                let mut p = Map::new();
                props(&mut p, extra);
                inner.insert("props".into(), Json::Object(p));
            }
            tagged("$error", Json::Object(inner))
        }
        MessageValue::RegExp {
            source,
            flags,
            last_index,
        } => {
            let mut inner = Map::new();
            inner.insert("source".into(), Json::String(source.clone()));
            inner.insert("flags".into(), Json::String(flags.clone()));
            if *last_index != 0 {
                inner.insert("last_index".into(), Json::from(*last_index));
            }
            tagged("$regexp", Json::Object(inner))
        }
        MessageValue::DomException { .. }
        | MessageValue::ImageData { .. }
        | MessageValue::Blob { .. } => super::platform::observe_platform(value, false),
        MessageValue::Unlisted {
            value,
            non_enumerable,
            symbol_keyed,
        } => {
            let mut out = match to_tagged(value) {
                Json::Object(m) => m,
                Json::Array(items) => {
                    let mut m = Map::new();
                    m.insert("$array".into(), Json::Array(items));
                    m
                }
                other => return other,
            };
            let hidden = |entries: &[(String, MessageValue)]| {
                Json::Object(
                    entries
                        .iter()
                        .map(|(k, v)| (k.clone(), to_tagged(v)))
                        .collect(),
                )
            };
            if !non_enumerable.is_empty() {
                out.insert("$non_enumerable".into(), hidden(non_enumerable));
            }
            if !symbol_keyed.is_empty() {
                out.insert("$symbol_keyed".into(), hidden(symbol_keyed));
            }
            Json::Object(out)
        }
        MessageValue::Identified { id, value } => {
            let mut out = Map::new();
            out.insert("$id".into(), Json::String(id.clone()));
            match to_tagged(value) {
                Json::Object(m) => out.extend(m),
                Json::Array(items) => {
                    out.insert("$array".into(), Json::Array(items));
                }
                _ => unreachable!("$id is only on objects"),
            }
            Json::Object(out)
        }
        MessageValue::Undefined
        | MessageValue::Null
        | MessageValue::Bool(_)
        | MessageValue::Number(_)
        | MessageValue::String(_)
        | MessageValue::Function(_)
        | MessageValue::Symbol(_)
        | MessageValue::Hole
        | MessageValue::BigInt(_)
        | MessageValue::Boxed(_)
        | MessageValue::Date(_)
        | MessageValue::Ref(_)
        | MessageValue::Node(_)
        | MessageValue::ThrowingGetter(_) => super::deserialize::observe(value),
    }
}
