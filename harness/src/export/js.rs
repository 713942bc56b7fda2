//! JavaScript source for the values a case posts: message values, raw
//! argument lists, transfer lists, written as literals a reader of the
//! exported test recognises (`new Uint8Array([1, 2]).buffer`, an object
//! with a getter that throws) rather than a tagged description.

use super::refusal::{Refusal, RefusalGroup};
use pmconf_model::call_args::{ArgValue, Member};
use pmconf_model::message::{MessageValue, Transferable};

/// Makes JSON text safe inside an inline `<script>`: `</script>` and
/// `<!--` cannot appear (`<\/`, `<\!--` are the same strings in
/// JavaScript), nor U+2028/U+2029.
fn script_safe(json: String) -> String {
    json.replace("</", "<\\/")
        .replace("<!--", "<\\!--")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// A JavaScript string literal for `s` (JSON's escaping, which is valid
/// JavaScript), safe inside an inline `<script>`.
pub fn string_literal(s: &str) -> String {
    script_safe(serde_json::to_string(s).expect("strings serialize"))
}

/// A JSON value as a JavaScript literal, safe inside an inline `<script>`.
pub fn json_literal(v: &impl serde::Serialize) -> String {
    script_safe(serde_json::to_string(v).expect("values serialize"))
}

fn utf16_literal(units: &[u16]) -> String {
    match String::from_utf16(units) {
        Ok(s) => string_literal(&s),
        Err(_) => {
            let mut out = String::from("\"");
            for u in units {
                out.push_str(&format!("\\u{u:04x}"));
            }
            out.push('"');
            out
        }
    }
}

fn number_literal(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if n == 0.0 && n.is_sign_negative() {
        "-0".into()
    } else if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        format!("{}", n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(|j| j.to_string())
            .unwrap_or_else(|| format!("{n}"))
    }
}

fn refuse(kind: &str) -> Refusal {
    Refusal::new(
        RefusalGroup::ValueKind,
        format!("a message holds {kind}, which the exported test does not build yet"),
    )
}

/// A JavaScript expression that makes `value` in the sending window.
/// Buffers with an id are the window's own (`buffer("b1", [1, 2])` makes
/// it once and returns the same object after), as the case format says.
pub fn value_expr(value: &MessageValue) -> Result<String, Refusal> {
    Ok(match value {
        MessageValue::Undefined => "undefined".into(),
        MessageValue::Null => "null".into(),
        MessageValue::Bool(b) => b.to_string(),
        MessageValue::Number(n) => number_literal(*n),
        MessageValue::String(units) => utf16_literal(units),
        MessageValue::Array(items)
            if items
                .iter()
                .any(|v| matches!(v, MessageValue::ThrowingGetter(_))) =>
        {
            // A getter at an index: defined on the array after it is made.
            let plain: Vec<MessageValue> = items
                .iter()
                .map(|v| match v {
                    MessageValue::ThrowingGetter(_) => MessageValue::Hole,
                    v => v.clone(),
                })
                .collect();
            let mut out = format!(
                "(() => {{ const a = {}; ",
                value_expr(&MessageValue::Array(plain))?
            );
            for (i, v) in items.iter().enumerate() {
                if let MessageValue::ThrowingGetter(e) = v {
                    out.push_str(&format!(
                        "Object.defineProperty(a, \"{i}\", {{get() {{ throw new {}(\"getter\"); }}, enumerable: true, configurable: true}}); ",
                        js_identifier(e)
                    ));
                }
            }
            out.push_str("return a; })()");
            out
        }
        MessageValue::Array(items) => {
            let parts: Result<Vec<String>, Refusal> = items
                .iter()
                .map(|v| match v {
                    MessageValue::Hole => Ok(String::new()),
                    v => value_expr(v),
                })
                .collect();
            let parts = parts?;
            // A trailing hole needs its own comma: `[1, ,]` has length 2.
            let trailing = matches!(items.last(), Some(MessageValue::Hole));
            format!("[{}{}]", parts.join(", "), if trailing { "," } else { "" })
        }
        MessageValue::Object(entries) => object_expr(entries.iter().map(|(k, v)| (k, Ok(v))))?,
        MessageValue::Buffer {
            max_byte_length: Some(_),
            ..
        }
        | MessageValue::Buffer {
            resize: Some(_), ..
        } => return Err(refuse("a resizable ArrayBuffer (not written yet)")),
        MessageValue::Buffer { id, bytes, .. } => {
            let bytes = bytes
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            match id {
                Some(id) => format!("buffer({}, [{bytes}])", string_literal(id)),
                None => format!("new Uint8Array([{bytes}]).buffer"),
            }
        }
        MessageValue::Function(name) => format!("function {}() {{}}", js_identifier(name)),
        MessageValue::Symbol(d) => format!("Symbol({})", string_literal(d)),
        MessageValue::Node(name) => format!("document.createElement({})", string_literal(name)),
        MessageValue::ThrowingGetter(_) => {
            return Err(refuse("a throwing getter outside an object"))
        }
        MessageValue::Hole => return Err(refuse("a hole outside an array")),
        MessageValue::BigInt(digits) => format!("{digits}n"),
        MessageValue::Boxed(inner) => match inner.as_ref() {
            MessageValue::Bool(_) | MessageValue::BigInt(_) | MessageValue::Symbol(_) => {
                format!("Object({})", value_expr(inner)?)
            }
            MessageValue::Number(_) => format!("new Number({})", value_expr(inner)?),
            MessageValue::String(_) => format!("new String({})", value_expr(inner)?),
            _ => return Err(refuse("a wrapper of a non-primitive")),
        },
        MessageValue::Date(t) => format!("new Date({})", number_literal(*t)),
        MessageValue::RegExp {
            source,
            flags,
            last_index,
        } => {
            let made = format!(
                "new RegExp({}, {})",
                string_literal(source),
                string_literal(flags)
            );
            if *last_index == 0 {
                made
            } else {
                format!("Object.assign({made}, {{lastIndex: {last_index}}})")
            }
        }
        MessageValue::Map(entries) => {
            let parts: Result<Vec<String>, Refusal> = entries
                .iter()
                .map(|(k, v)| Ok(format!("[{}, {}]", value_expr(k)?, value_expr(v)?)))
                .collect();
            format!("new Map([{}])", parts?.join(", "))
        }
        MessageValue::Set(items) => {
            let parts: Result<Vec<String>, Refusal> = items.iter().map(value_expr).collect();
            format!("new Set([{}])", parts?.join(", "))
        }
        MessageValue::Error {
            message_value: Some(_),
            ..
        } => {
            return Err(refuse(
                "an Error whose message is not a string (not written yet)",
            ))
        }
        MessageValue::Error { props, .. } if !props.is_empty() => {
            return Err(refuse(
                "an Error with properties of its own (not written yet)",
            ))
        }
        MessageValue::Error {
            name,
            constructor,
            message,
            realm,
            ..
        } => {
            // `realm: W`: W's own constructor, read through the step
            // function's window references (`w`, in a case without race
            // steps; `check_shape` refuses `realm` in race cases).
            let constructor_expr = match realm {
                Some(r) => format!("(w[{}].{})", string_literal(r), js_identifier(constructor)),
                None => js_identifier(constructor),
            };
            let made = format!(
                "new {}({})",
                constructor_expr,
                message.as_deref().map(string_literal).unwrap_or_default()
            );
            if name == constructor {
                made
            } else {
                format!("Object.assign({made}, {{name: {}}})", string_literal(name))
            }
        }
        MessageValue::View { tracking: true, .. } => {
            return Err(refuse("a length-tracking view (not written yet)"))
        }
        MessageValue::View {
            kind,
            buffer,
            offset,
            length,
            ..
        } => {
            let buffer = match buffer.as_ref() {
                MessageValue::Ref(id) => format!("buffer({})", string_literal(id)),
                b => value_expr(b)?,
            };
            format!("new {}({buffer}, {offset}, {length})", kind.name())
        }
        MessageValue::ArrayWithProps { items, props } => format!(
            "Object.assign({}, {})",
            value_expr(&MessageValue::Array(items.clone()))?,
            object_expr(props.iter().map(|(k, v)| (k, Ok(v))))?
        ),
        MessageValue::Unlisted {
            value,
            non_enumerable,
            symbol_keyed,
        } => {
            let mut out = format!("(() => {{ const o = {}; ", value_expr(value)?);
            for (k, v) in non_enumerable {
                let descriptor = match v {
                    // Never read: serialization skips non-enumerable keys.
                    MessageValue::ThrowingGetter(e) => {
                        format!("get() {{ throw new {}(\"getter\"); }}", js_identifier(e))
                    }
                    v => format!("value: {}", value_expr(v)?),
                };
                out.push_str(&format!(
                    "Object.defineProperty(o, {}, {{{descriptor}, enumerable: false}}); ",
                    string_literal(k)
                ));
            }
            for (d, v) in symbol_keyed {
                out.push_str(&format!(
                    "o[Symbol({})] = {}; ",
                    string_literal(d),
                    value_expr(v)?
                ));
            }
            out.push_str("return o; })()");
            out
        }
        MessageValue::Identified { .. } | MessageValue::Ref(_) => {
            return Err(refuse("shared references ($id/$ref)"))
        }
        MessageValue::Port(_) => return Err(refuse("a MessagePort")),
        MessageValue::SharedBuffer(_) => return Err(refuse("a SharedArrayBuffer")),
        MessageValue::DomException { .. }
        | MessageValue::ImageData { .. }
        | MessageValue::Blob { .. } => {
            return Err(refuse(
                "a platform object (DOMException, ImageData, Blob, File: not written yet)",
            ))
        }
    })
}

fn js_identifier(name: &str) -> String {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        name.to_owned()
    } else {
        "f".to_owned()
    }
}

fn object_expr<'a>(
    entries: impl Iterator<Item = (&'a String, Result<&'a MessageValue, String>)>,
) -> Result<String, Refusal> {
    let mut parts = Vec::new();
    for (k, v) in entries {
        let key = string_literal(k);
        match v {
            Ok(MessageValue::ThrowingGetter(error)) => parts.push(format!(
                "get {key}() {{ throw new {}(\"getter\"); }}",
                js_identifier(error)
            )),
            Ok(v) => parts.push(format!("{key}: {}", value_expr(v)?)),
            Err(getter) => parts.push(format!(
                "get {key}() {{ throw new {}(\"getter\"); }}",
                js_identifier(&getter)
            )),
        }
    }
    Ok(format!("{{{}}}", parts.join(", ")))
}

/// A raw argument's expression; `spell` moves a string that names a host
/// (targetOrigin positions) onto WPT's hosts and returns its expression.
pub fn arg_expr(
    arg: &ArgValue,
    spell: &mut dyn FnMut(&str) -> Result<String, Refusal>,
) -> Result<String, Refusal> {
    match arg {
        ArgValue::Value(MessageValue::String(units)) => match String::from_utf16(units) {
            Ok(s) => spell(&s),
            Err(_) => Ok(utf16_literal(units)),
        },
        ArgValue::Value(v) => value_expr(v),
        ArgValue::Object(members) => {
            let mut parts = Vec::new();
            for (k, m) in members {
                let key = string_literal(k);
                match m {
                    Member::Data(a) => parts.push(format!("{key}: {}", arg_expr(a, spell)?)),
                    Member::ThrowingGetter(e) => parts.push(format!(
                        "get {key}() {{ throw new {}(\"getter\"); }}",
                        js_identifier(e)
                    )),
                }
            }
            Ok(format!("{{{}}}", parts.join(", ")))
        }
    }
}

/// A transfer list's expression.
pub fn transfer_expr(list: &[Transferable]) -> Result<String, Refusal> {
    let parts: Result<Vec<String>, Refusal> = list
        .iter()
        .map(|t| match t {
            Transferable::BufferId(id) => Ok(format!("buffer({})", string_literal(id))),
            Transferable::Value(v) => value_expr(v),
        })
        .collect();
    Ok(format!("[{}]", parts?.join(", ")))
}

/// Whether the receiver's view of a message (the model's observable JSON)
/// uses only what the exported test's `describe()` writes (every kind a
/// message can arrive as, but MessagePorts and SharedArrayBuffers).
pub fn describable(observed: &serde_json::Value) -> Result<(), Refusal> {
    use serde_json::Value as Json;
    match observed {
        Json::Array(items) => items.iter().try_for_each(describable),
        Json::Object(m) => {
            for (k, v) in m {
                if let Some(tag) = k.strip_prefix('$') {
                    match tag {
                        "undefined" | "number" | "utf16" | "hole" | "buffer" | "bigint"
                        | "boxed" | "date" | "regexp" | "error" | "map" | "set" | "typed"
                        | "dataview" | "array" | "id" | "ref" => {}
                        other => {
                            return Err(Refusal::new(
                                RefusalGroup::ValueKind,
                                format!("a received value holds ${other}, which the exported test does not compare yet"),
                            ))
                        }
                    }
                } else {
                    describable(v)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(yaml: &str) -> MessageValue {
        let y: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
        let text = format!(
            "description: t\nwindows:\n  top: {{ url: \"http://a.test:8000/\" }}\nsteps:\n  - post: {{ from: top, to: top, target_origin: \"*\", message: {} }}\n",
            serde_json::to_string(&serde_json::to_value(&y).unwrap()).unwrap()
        );
        let case = pmconf_model::parse_case("t.yaml", &text).unwrap();
        case.steps[0].as_post().unwrap().message.clone()
    }

    /// A case's string may hold `</script>`: inside the page's inline
    /// script it must not end the element (awkward-strings.yaml did).
    #[test]
    fn literals_cannot_end_the_inline_script() {
        assert_eq!(string_literal("</script><!--"), "\"<\\/script><\\!--\"");
        assert_eq!(json_literal(&serde_json::json!(["</b>"])), "[\"<\\/b>\"]");
    }

    /// Hand-written expected JavaScript for each kind.
    #[test]
    fn literals_a_reader_recognises() {
        assert_eq!(value_expr(&msg("\"hi\"")).unwrap(), "\"hi\"");
        assert_eq!(value_expr(&msg("{ $number: \"-0\" }")).unwrap(), "-0");
        assert_eq!(
            value_expr(&msg("[1, { $hole: null }, { $hole: null }]")).unwrap(),
            "[1, , ,]"
        );
        assert_eq!(
            value_expr(&msg("{ $buffer: { id: b1, bytes: [1, 2] } }")).unwrap(),
            "buffer(\"b1\", [1, 2])"
        );
        assert_eq!(
            value_expr(&msg("{ a: 1, g: { $throwing_getter: RangeError } }")).unwrap(),
            "{\"a\": 1, get \"g\"() { throw new RangeError(\"getter\"); }}"
        );
        assert_eq!(
            value_expr(&msg("{ $utf16: [0xD800] }")).unwrap(),
            "\"\\ud800\""
        );
        assert_eq!(
            value_expr(&msg("{ $map: [[1, \"a\"]] }")).unwrap(),
            "new Map([[1, \"a\"]])"
        );
        assert_eq!(value_expr(&msg("{ $bigint: \"-12\" }")).unwrap(), "-12n");
        assert_eq!(
            value_expr(&msg("[1, { $throwing_getter: TypeError }]")).unwrap(),
            "(() => { const a = [1, ,]; Object.defineProperty(a, \"1\", {get() { throw new TypeError(\"getter\"); }, enumerable: true, configurable: true}); return a; })()"
        );
        assert_eq!(
            value_expr(&msg("{ $id: a, n: 1 }")).unwrap_err().group,
            RefusalGroup::ValueKind
        );
    }
}
