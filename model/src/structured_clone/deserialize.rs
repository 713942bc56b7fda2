//! What StructuredDeserialize gives the receiver, written in the tagged
//! notation (the same one a case uses), so a delivery can be compared with
//! what the page's agent reads back from `event.data`.
//!
//! <https://html.spec.whatwg.org/multipage/structured-data.html#structureddeserialize>
//!
//! Identity: StructuredSerializeInternal keeps one record per object
//! (`memory`, steps 2 and 25) and StructuredDeserialize one object per
//! record (its own `memory`, steps 2 and 27), so shared references and
//! cycles arrive as shared references and cycles. In the notation an object
//! met more than once gets `$id: oN` where it is first met and `{$ref: oN}`
//! afterwards, numbered in the order a depth-first walk first meets them
//! (array items then extra properties, object keys in [[OwnPropertyKeys]]
//! order, map key then value, set values, a view's buffer): the case's own
//! names are not observable.

use super::{children, Names};
use crate::message::{bytes_json, number_json, sab_json, tagged, MessageValue};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// The receiver's view of `value`, which serialized without exception.
pub fn observe(value: &MessageValue) -> Json {
    let names = Names::of(value);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    count(value, &names, &mut seen);
    let mut walk = Walk {
        names: &names,
        seen,
        given: BTreeMap::new(),
    };
    walk.emit(value)
}

fn count(value: &MessageValue, names: &Names<'_>, seen: &mut BTreeMap<String, usize>) {
    let (name, body) = names.resolve(value);
    if let Some(name) = name {
        let n = seen.entry(name.to_owned()).or_default();
        *n += 1;
        if *n > 1 {
            return;
        }
    }
    for child in children(body) {
        count(child, names, seen);
    }
}

struct Walk<'n, 'a> {
    names: &'n Names<'a>,
    /// How often each named object is met.
    seen: BTreeMap<String, usize>,
    /// The `oN` given to each shared object already written.
    given: BTreeMap<String, String>,
}

impl Walk<'_, '_> {
    fn emit(&mut self, value: &MessageValue) -> Json {
        let (name, body) = self.names.resolve(value);
        let mut id = None;
        if let Some(name) = name {
            if self.seen.get(name).copied().unwrap_or(0) > 1 {
                if let Some(given) = self.given.get(name) {
                    return tagged("$ref", Json::String(given.clone()));
                }
                let given = format!("o{}", self.given.len() + 1);
                self.given.insert(name.to_owned(), given.clone());
                id = Some(given);
            }
        }
        self.emit_body(body, id)
    }

    fn emit_list(&mut self, items: &[MessageValue]) -> Vec<Json> {
        items.iter().map(|v| self.emit(v)).collect()
    }

    fn emit_body(&mut self, body: &MessageValue, id: Option<String>) -> Json {
        let mut out = Map::new();
        if let Some(id) = id {
            out.insert("$id".into(), Json::String(id));
        }
        match body {
            MessageValue::Array(items) if out.is_empty() => Json::Array(self.emit_list(items)),
            MessageValue::Array(items) => {
                out.insert("$array".into(), Json::Array(self.emit_list(items)));
                Json::Object(out)
            }
            MessageValue::ArrayWithProps { items, props } => {
                out.insert("$array".into(), Json::Array(self.emit_list(items)));
                for (k, v) in props {
                    let v = self.emit(v);
                    out.insert(k.clone(), v);
                }
                Json::Object(out)
            }
            MessageValue::Object(entries) => {
                for (k, v) in crate::message::ordinary_own_property_keys(entries) {
                    let v = self.emit(v);
                    out.insert(k.clone(), v);
                }
                Json::Object(out)
            }
            // Non-enumerable and symbol-keyed properties were not
            // serialized (26.4), so the receiver's object lacks them.
            MessageValue::Unlisted { value, .. } => {
                let id = out
                    .remove("$id")
                    .and_then(|j| j.as_str().map(str::to_owned));
                self.emit_body(value, id)
            }
            MessageValue::Map(entries) => {
                let list = entries
                    .iter()
                    .map(|(k, v)| Json::Array(vec![self.emit(k), self.emit(v)]))
                    .collect();
                out.insert("$map".into(), Json::Array(list));
                Json::Object(out)
            }
            MessageValue::Set(items) => {
                out.insert("$set".into(), Json::Array(self.emit_list(items)));
                Json::Object(out)
            }
            MessageValue::View {
                kind,
                buffer,
                offset,
                length,
                tracking,
            } => {
                // StructuredDeserialize 14: the new view keeps its byte
                // offset and its [[ArrayLength]] (auto for a length-tracking
                // one): the receiver reads the length it has now.
                let byte_length = match self.names.resolve(buffer).1 {
                    MessageValue::Buffer { bytes, resize, .. } => {
                        super::buffer_bytes_now(bytes, *resize).len()
                    }
                    MessageValue::SharedBuffer(sab) => sab.bytes.len(),
                    _ => 0,
                };
                let length_now =
                    super::view_length_now(*kind, *offset, *length, *tracking, byte_length)
                        .unwrap_or(*length);
                let buffer = self.emit(buffer);
                let Json::Object(view) = super::view_json(*kind, buffer, *offset, Some(length_now))
                else {
                    unreachable!("a view is a tagged map")
                };
                out.extend(view);
                Json::Object(out)
            }
            // 13.2.3: a resizable buffer arrives resizable, with its bytes
            // now and its maximum.
            MessageValue::Buffer {
                bytes,
                max_byte_length,
                resize,
                ..
            } => {
                let mut inner = Map::new();
                inner.insert(
                    "bytes".into(),
                    bytes_json(&super::buffer_bytes_now(bytes, *resize)),
                );
                if let Some(m) = max_byte_length {
                    inner.insert("max_byte_length".into(), Json::from(*m));
                }
                out.insert("$buffer".into(), Json::Object(inner));
                Json::Object(out)
            }
            leaf => {
                let Json::Object(leaf) = leaf_json(leaf) else {
                    return leaf_json(leaf);
                };
                if out.is_empty() {
                    return Json::Object(leaf);
                }
                out.extend(leaf);
                Json::Object(out)
            }
        }
    }
}

/// The receiver's view of a value with nothing inside that has identity.
fn leaf_json(value: &MessageValue) -> Json {
    match value {
        MessageValue::Undefined => tagged("$undefined", Json::Null),
        MessageValue::Null => Json::Null,
        MessageValue::Bool(b) => Json::Bool(*b),
        MessageValue::Number(n) => number_json(*n),
        MessageValue::String(units) => string_json(units),
        MessageValue::Hole => tagged("$hole", Json::Null),
        MessageValue::Port(name) => tagged("$port", Json::String(name.clone())),
        // StructuredDeserialize 12-13: a new SharedArrayBuffer over the
        // same shared data block; a "GrowableSharedArrayBuffer" keeps its
        // [[ArrayBufferMaxByteLength]], so it arrives growable.
        MessageValue::SharedBuffer(sab) => sab_json(sab),
        MessageValue::BigInt(digits) => tagged("$bigint", Json::String(digits.clone())),
        // Deserialize: new wrapper objects of the same primitive.
        MessageValue::Boxed(inner) => {
            let (key, v) = match inner.as_ref() {
                MessageValue::Bool(b) => ("boolean", Json::Bool(*b)),
                MessageValue::Number(n) => ("number", number_json(*n)),
                MessageValue::String(u) => ("string", string_json(u)),
                MessageValue::BigInt(d) => ("bigint", Json::String(d.clone())),
                MessageValue::Symbol(d) => ("symbol", Json::String(d.clone())),
                other => ("other", leaf_json(other)),
            };
            tagged("$boxed", tagged(key, v))
        }
        MessageValue::Date(t) => tagged("$date", number_json(*t)),
        // Deserialize: RegExpCreate(OriginalSource, OriginalFlags); the
        // receiver reads `source` (EscapeRegExpPattern) and `flags` (in
        // the getter's fixed order).
        MessageValue::RegExp { source, flags, .. } => {
            let mut inner = Map::new();
            inner.insert("source".into(), Json::String(escape_regexp_pattern(source)));
            inner.insert("flags".into(), Json::String(canonical_flags(flags)));
            tagged("$regexp", Json::Object(inner))
        }
        // 17.2. If name is not one of the seven, set name to "Error";
        // deserialize picks the prototype by it and defines `message` only
        // when it was a data property.
        MessageValue::Error {
            name,
            message,
            message_value,
            ..
        } => {
            let mut inner = Map::new();
            inner.insert(
                "name".into(),
                Json::String(serialized_error_name(name).into()),
            );
            let message = match message_value {
                Some(v) => crate::call_args::to_string_of(v)
                    .ok()
                    .map(|units| String::from_utf16_lossy(&units)),
                None => message.clone(),
            };
            if let Some(m) = message {
                inner.insert("message".into(), Json::String(m));
            }
            tagged("$error", Json::Object(inner))
        }
        MessageValue::Function(name) => tagged("$function", Json::String(name.clone())),
        MessageValue::Symbol(d) => tagged("$symbol", Json::String(d.clone())),
        MessageValue::Node(n) => tagged("$node", Json::String(n.clone())),
        MessageValue::ThrowingGetter(n) => tagged("$throwing_getter", Json::String(n.clone())),
        MessageValue::Ref(id) => tagged("$ref", Json::String(id.clone())),
        MessageValue::DomException { .. }
        | MessageValue::ImageData { .. }
        | MessageValue::Blob { .. } => super::platform::observe_platform(value, true),
        MessageValue::Array(_)
        | MessageValue::ArrayWithProps { .. }
        | MessageValue::Object(_)
        | MessageValue::Map(_)
        | MessageValue::Set(_)
        | MessageValue::View { .. }
        | MessageValue::Buffer { .. }
        | MessageValue::Unlisted { .. }
        | MessageValue::Identified { .. } => observe(value),
    }
}

fn string_json(units: &[u16]) -> Json {
    match String::from_utf16(units) {
        Ok(s) => Json::String(s),
        Err(_) => tagged(
            "$utf16",
            Json::Array(units.iter().map(|u| Json::from(*u)).collect()),
        ),
    }
}

/// StructuredSerializeInternal step 17.2.
pub fn serialized_error_name(name: &str) -> &str {
    if super::SERIALIZABLE_ERROR_NAMES.contains(&name) {
        name
    } else {
        "Error"
    }
}

/// EscapeRegExpPattern as `RegExp.prototype.source` applies it: "The code
/// points / or any LineTerminator occurring in the pattern shall be
/// escaped in S as necessary to ensure that the string-concatenation of
/// "/", S, "/", and F can be parsed (in an appropriate lexical context) as
/// a RegularExpressionLiteral that behaves identically to the constructed
/// regular expression", and the empty pattern is `(?:)`.
///
/// A `/` not already escaped and outside a character class must become
/// `\/` (the syntax refuses `/` inside a class, where escaping is not
/// necessary and engines differ); a line terminator becomes the escape
/// every engine writes (`\n`, `\r`, `\u2028`, `\u2029`).
///
/// <https://tc39.es/ecma262/#sec-escaperegexppattern>
pub fn escape_regexp_pattern(source: &str) -> String {
    if source.is_empty() {
        return "(?:)".into();
    }
    let mut out = String::new();
    let mut escaped = false;
    for c in source.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            '/' if !escaped => out.push_str("\\/"),
            c => out.push(c),
        }
        escaped = c == '\\' && !escaped;
    }
    out
}

/// `RegExp.prototype.flags` lists the flags in the order
/// `d g i m s u v y`, whatever order they were written in.
///
/// <https://tc39.es/ecma262/#sec-get-regexp.prototype.flags>
pub fn canonical_flags(flags: &str) -> String {
    "dgimsuvy".chars().filter(|c| flags.contains(*c)).collect()
}
