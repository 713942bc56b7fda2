//! Message values and `StructuredSerializeWithTransfer`.
//!
//! <https://html.spec.whatwg.org/multipage/structured-data.html#structuredserializewithtransfer>
//!
//! A message is written in a case as YAML (or JSON): plain scalars, lists
//! and maps are the JavaScript values they look like. Values JSON cannot
//! spell are one-key maps whose key starts with `$` (the *tagged form*, the
//! same on the way in, in a case, and on the way out, in an observation):
//!
//! | tagged form | JavaScript value |
//! |---|---|
//! | `{$undefined: null}` | `undefined` |
//! | `{$number: NaN}` (`Infinity`, `-Infinity`, `-0`) | that number |
//! | `{$utf16: [0xD800, 0x61]}` | a string of those code units (lone surrogates) |
//! | `{$buffer: {id: b1, bytes: [1, 2]}}` | an `ArrayBuffer`; `id` names it for `transfer` and is not observable |
//! | `{$function: name}` | a function (not serializable) |
//! | `{$symbol: description}` | a symbol (not serializable) |
//!
//! The type is an enum so that the full structured-clone model (Map, Set,
//! Date, MessagePort...) can grow into it.

use serde_json::{Map, Number, Value as Json};
use std::collections::BTreeSet;
use std::fmt;

/// A JavaScript value a case can post.
#[derive(Debug, Clone)]
pub enum MessageValue {
    /// `undefined`.
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A Number, NaN and signed zero included.
    Number(f64),
    /// A string as UTF-16 code units, so lone surrogates survive.
    String(Vec<u16>),
    /// An Array (dense).
    Array(Vec<MessageValue>),
    /// An ordinary object: own enumerable string-keyed properties, in the
    /// order the case lists them.
    Object(Vec<(String, MessageValue)>),
    /// An `ArrayBuffer`.
    Buffer {
        /// The case's name for it, for `transfer` and for identity across
        /// posts from one window. Not observable by the receiver.
        id: Option<String>,
        /// Its contents when made.
        bytes: Vec<u8>,
        /// `new ArrayBuffer(len, {maxByteLength})`: a resizable buffer.
        max_byte_length: Option<usize>,
        /// `buffer.resize(n)`, called once the message's views are made
        /// (so a fixed-length view can end up out of bounds).
        resize: Option<usize>,
    },
    /// A function: serializing it throws `DataCloneError`.
    Function(String),
    /// A symbol: serializing it throws `DataCloneError`.
    Symbol(String),
    /// `{$hole: null}` as an array item: no property at that index (a
    /// sparse array). Nothing else may be a hole.
    Hole,
    /// A BigInt, as canonical decimal digits (`-` first when negative).
    BigInt(String),
    /// A primitive wrapper object (`new Number(1)`, `Object(1n)`...): the
    /// primitive it wraps (boolean, number, string, bigint or symbol).
    Boxed(Box<MessageValue>),
    /// A Date, by its time value after the Date constructor's TimeClip.
    Date(f64),
    /// A RegExp as constructed: `new RegExp(source, flags)`.
    RegExp {
        /// The pattern text as written.
        source: String,
        /// The flags as written.
        flags: String,
        /// `lastIndex` set after construction (not serialized: step 12
        /// copies [[OriginalSource]] and [[OriginalFlags]] only).
        last_index: u32,
    },
    /// A Map, entries in insertion order (duplicate keys already merged as
    /// `Map.prototype.set` would).
    Map(Vec<(MessageValue, MessageValue)>),
    /// A Set, values in insertion order (duplicates already dropped).
    Set(Vec<MessageValue>),
    /// An Error object made by `new <constructor>(message)`, with an own
    /// `name` property when `name` differs from the constructor's.
    Error {
        /// What `Get(value, "name")` returns.
        name: String,
        /// The native error constructor that made it.
        constructor: String,
        /// The own `message` property, if any.
        message: Option<String>,
        /// A non-string value assigned to `message` after construction
        /// (an own data property): serialization calls ToString on it.
        message_value: Option<Box<MessageValue>>,
        /// Own enumerable properties added after construction (not
        /// serialized: step 17 reads `name` and `message` only).
        props: Vec<(String, MessageValue)>,
        /// The window whose realm's constructor made it (`realm: W`), when
        /// not the sender's: a same origin-domain window the sender reaches.
        /// Serialization reads the same `name` and `message` whatever the
        /// realm ([`crate::structured_clone`], step 17).
        realm: Option<String>,
    },
    /// A typed array or DataView over a buffer (a `$buffer` or a `$ref`
    /// naming one).
    View {
        /// Which view.
        kind: crate::structured_clone::ViewKind,
        /// The viewed buffer.
        buffer: Box<MessageValue>,
        /// Byte offset.
        offset: usize,
        /// Length in elements (typed arrays) or bytes (DataView); unused
        /// when `tracking`.
        length: usize,
        /// A length-tracking view (made without a length over a
        /// resizable buffer: [[ArrayLength]] or [[ByteLength]] is auto).
        tracking: bool,
    },
    /// An Array with own enumerable string-keyed properties besides its
    /// indices (`{$array: [...], key: value}`).
    ArrayWithProps {
        /// The items (holes allowed).
        items: Vec<MessageValue>,
        /// The extra properties, in creation order.
        props: Vec<(String, MessageValue)>,
    },
    /// An object or array that also has non-enumerable and symbol-keyed
    /// own properties, which serialization never reads.
    Unlisted {
        /// The object or array.
        value: Box<MessageValue>,
        /// Non-enumerable string-keyed properties.
        non_enumerable: Vec<(String, MessageValue)>,
        /// Symbol-keyed properties, by the symbol's description.
        symbol_keyed: Vec<(String, MessageValue)>,
    },
    /// An object value named with `$id`, so that `$ref` can point at it.
    Identified {
        /// The name.
        id: String,
        /// The object.
        value: Box<MessageValue>,
    },
    /// `{$ref: name}`: the very object named `name` (by `$id`, or a
    /// `$buffer`'s `id`) elsewhere in the same message.
    Ref(String),
    /// A DOM node (`document.createElement(name)`): a platform object that
    /// is not serializable.
    Node(String),
    /// A property whose getter throws an exception of this name.
    ThrowingGetter(String),
    /// A `MessagePort`, named by the case's `channel` step (`$port: name`).
    /// A platform object that is transferable but not serializable: it
    /// serializes only when the transfer list holds it.
    /// <https://html.spec.whatwg.org/multipage/web-messaging.html#message-ports>
    Port(String),
    /// A `SharedArrayBuffer` (`$sab: {bytes: [...]}`, growable with
    /// `max_byte_length`): serializable only where the current settings
    /// object is cross-origin isolated.
    SharedBuffer(SharedBufferData),
    /// A `DOMException` (`new DOMException(message, name)`): a
    /// serializable platform object ([`crate::structured_clone::platform`]).
    DomException {
        /// Its name.
        name: String,
        /// Its message.
        message: String,
    },
    /// An `ImageData` (`new ImageData(new Uint8ClampedArray(data), width,
    /// height)`).
    ImageData {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// RGBA bytes, 4 a pixel.
        data: Vec<u8>,
    },
    /// A `Blob` (`new Blob([bytes], {type})`), or with `file` a `File`
    /// (`new File([bytes], name, {type, lastModified})`).
    Blob {
        /// Its `type`.
        media_type: String,
        /// Its bytes.
        bytes: Vec<u8>,
        /// A File's name and lastModified.
        file: Option<(String, i64)>,
    },
}

/// A `SharedArrayBuffer` as a case makes it: `new SharedArrayBuffer(len)`
/// or, growable, `new SharedArrayBuffer(len, {maxByteLength})`, then its
/// bytes written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedBufferData {
    /// Its contents when posted ([[ArrayBufferByteLength]], or for a
    /// growable one [[ArrayBufferByteLengthData]], is their length).
    pub bytes: Vec<u8>,
    /// [[ArrayBufferMaxByteLength]]: present only on a growable buffer.
    pub max_byte_length: Option<usize>,
}

/// What went wrong reading a message's tagged form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFormatError {
    /// Where in the value, e.g. `.a[2]`.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for MessageFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "at {}: {}", self.path, self.reason)
        }
    }
}

const TAGS: &[&str] = &[
    "$undefined",
    "$number",
    "$utf16",
    "$buffer",
    "$function",
    "$symbol",
    "$hole",
    "$bigint",
    "$boxed",
    "$date",
    "$regexp",
    "$map",
    "$set",
    "$error",
    "$typed",
    "$dataview",
    "$array",
    "$id",
    "$ref",
    "$non_enumerable",
    "$symbol_keyed",
    "$node",
    "$throwing_getter",
    "$port",
    "$sab",
    "$domexception",
    "$imagedata",
    "$blob",
    "$file",
];

impl MessageValue {
    /// A string value.
    pub fn string(s: &str) -> Self {
        MessageValue::String(s.encode_utf16().collect())
    }

    /// Reads a value from its tagged JSON form.
    pub fn from_tagged_json(json: &Json) -> Result<Self, MessageFormatError> {
        let value = from_json_at(json, &mut String::new())?;
        crate::structured_clone::syntax::check(&value)?;
        Ok(value)
    }

    /// Reads a value from a YAML node (converted to JSON first: YAML's own
    /// `.nan` and `.inf` become numbers, non-string map keys are refused).
    pub fn from_yaml(yaml: &serde_yaml::Value) -> Result<Self, MessageFormatError> {
        let json = yaml_to_json(yaml, &mut String::new())?;
        Self::from_tagged_json(&json)
    }

    /// The tagged JSON form of the value as the receiver observes it:
    /// buffer IDs dropped, object keys in JavaScript's own property order.
    pub fn observable_json(&self) -> Json {
        crate::structured_clone::deserialize::observe(self)
    }

    /// The tagged JSON form with buffer IDs kept: what a page needs to build
    /// the value, and what `pmconf model` prints for a case's message.
    pub fn to_tagged_json(&self) -> Json {
        crate::structured_clone::syntax::to_tagged(self)
    }

    /// Every buffer ID the value mentions, in order of first appearance.
    pub fn buffer_ids(&self) -> Vec<String> {
        self.names_once(|v| match v {
            MessageValue::Buffer { id: Some(id), .. } => Some(id),
            _ => None,
        })
    }

    /// Whether the value holds a SharedArrayBuffer anywhere.
    pub fn contains_shared_buffer(&self) -> bool {
        let mut found = false;
        self.visit(&mut |v| found |= matches!(v, MessageValue::SharedBuffer(_)));
        found
    }

    /// Every port the value mentions (`$port: name`), in order of first
    /// appearance.
    pub fn port_names(&self) -> Vec<String> {
        self.names_once(|v| match v {
            MessageValue::Port(name) => Some(name),
            _ => None,
        })
    }

    /// Every window whose realm makes an Error of the value (`$error`'s
    /// `realm`), in order of first appearance.
    pub fn error_realms(&self) -> Vec<String> {
        self.names_once(|v| match v {
            MessageValue::Error { realm: Some(r), .. } => Some(r),
            _ => None,
        })
    }

    /// The names `name_of` finds in the value, each once, in order of
    /// first appearance.
    fn names_once(&self, name_of: impl Fn(&MessageValue) -> Option<&String>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.visit(&mut |v| {
            if let Some(n) = name_of(v) {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        });
        out
    }

    fn visit(&self, f: &mut impl FnMut(&MessageValue)) {
        f(self);
        for child in crate::structured_clone::children(self) {
            child.visit(f);
        }
    }
}

pub(crate) fn tagged(tag: &str, inner: Json) -> Json {
    let mut map = Map::new();
    map.insert(tag.to_owned(), inner);
    Json::Object(map)
}

/// A list of bytes as the tagged forms write them (`[0, 255, ...]`), or
/// `None` when it is not one.
pub(crate) fn byte_list(json: &Json) -> Option<Vec<u8>> {
    json.as_array()?
        .iter()
        .map(|x| x.as_u64().and_then(|x| u8::try_from(x).ok()))
        .collect()
}

/// A buffer's bytes as the tagged forms write them: `[0, 255, ...]`.
pub(crate) fn bytes_json(bytes: &[u8]) -> Json {
    Json::Array(bytes.iter().map(|b| Json::from(*b)).collect())
}

/// A SharedArrayBuffer as both the page's tagged form and the receiver's
/// view write it: `{"$sab": {"bytes": [...]}}`, with `max_byte_length`
/// for a growable one.
pub(crate) fn sab_json(sab: &SharedBufferData) -> Json {
    let mut inner = Map::new();
    inner.insert("bytes".into(), bytes_json(&sab.bytes));
    if let Some(m) = sab.max_byte_length {
        inner.insert("max_byte_length".into(), Json::from(m));
    }
    tagged("$sab", Json::Object(inner))
}

/// The tagged JSON spelling of a Number
/// ([`crate::structured_clone::number::canonical_number_json`]).
pub(crate) fn number_json(n: f64) -> Json {
    crate::structured_clone::number::canonical_number_json(n)
}

/// The order of an ordinary object's own property keys: array indices in
/// ascending numeric order, then other strings in creation order.
///
/// <https://tc39.es/ecma262/#sec-ordinaryownpropertykeys>
pub(crate) fn ordinary_own_property_keys(
    entries: &[(String, MessageValue)],
) -> Vec<&(String, MessageValue)> {
    // 1. For each own property key P of O such that P is an array index, in
    //    ascending numeric index order...
    let mut indices: Vec<(u32, &(String, MessageValue))> = entries
        .iter()
        .filter_map(|e| array_index(&e.0).map(|i| (i, e)))
        .collect();
    indices.sort_by_key(|(i, _)| *i);
    let mut keys: Vec<_> = indices.into_iter().map(|(_, e)| e).collect();
    // 2. For each own property key P of O such that P is a String and P is
    //    not an array index, in ascending chronological order of creation...
    keys.extend(entries.iter().filter(|e| array_index(&e.0).is_none()));
    keys
}

/// An array index is a canonical numeric string for an integer in
/// 0..2^32-1 (exclusive).
pub(crate) fn array_index(key: &str) -> Option<u32> {
    let n: u32 = key.parse().ok()?;
    (n.to_string() == key && n != u32::MAX).then_some(n)
}

fn err(path: &str, reason: impl Into<String>) -> MessageFormatError {
    MessageFormatError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn from_json_at(json: &Json, path: &mut String) -> Result<MessageValue, MessageFormatError> {
    Ok(match json {
        Json::Null => MessageValue::Null,
        Json::Bool(b) => MessageValue::Bool(*b),
        Json::Number(n) => MessageValue::Number(n.as_f64().expect("JSON numbers are finite")),
        Json::String(s) => MessageValue::string(s),
        Json::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(from_json_at(item, path)?);
                path.truncate(len);
            }
            MessageValue::Array(out)
        }
        Json::Object(map) => {
            crate::structured_clone::syntax::parse_object(map, path, from_json_at)?
        }
    })
}

fn from_tagged(tag: &str, inner: &Json, path: &str) -> Result<MessageValue, MessageFormatError> {
    match tag {
        "$undefined" => match inner {
            Json::Null => Ok(MessageValue::Undefined),
            _ => Err(err(path, "$undefined takes null: {$undefined: null}")),
        },
        "$number" => match inner.as_str() {
            Some("NaN") => Ok(MessageValue::Number(f64::NAN)),
            Some("Infinity") => Ok(MessageValue::Number(f64::INFINITY)),
            Some("-Infinity") => Ok(MessageValue::Number(f64::NEG_INFINITY)),
            Some("-0") => Ok(MessageValue::Number(-0.0)),
            _ => Err(err(
                path,
                "$number takes one of \"NaN\", \"Infinity\", \"-Infinity\", \"-0\"",
            )),
        },
        "$utf16" => {
            let units = inner
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|u| u.as_u64().and_then(|u| u16::try_from(u).ok()))
                        .collect::<Option<Vec<u16>>>()
                })
                .ok_or_else(|| err(path, "$utf16 takes a list of code units (0 to 65535)"))?;
            Ok(MessageValue::String(units))
        }
        "$buffer" => {
            let obj = inner
                .as_object()
                .ok_or_else(|| err(path, "$buffer takes a map: {id: NAME, bytes: [0, 1]}"))?;
            const FIELDS: [&str; 4] = ["id", "bytes", "max_byte_length", "resize"];
            if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
                return Err(err(
                    path,
                    format!("$buffer has no field `{k}` (fields: {})", FIELDS.join(", ")),
                ));
            }
            let id = match obj.get("id") {
                None | Some(Json::Null) => None,
                Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(_) => return Err(err(path, "$buffer's id must be a non-empty string")),
            };
            let bytes = match obj.get("bytes") {
                None => Vec::new(),
                Some(b) => byte_list(b)
                    .ok_or_else(|| err(path, "$buffer's bytes must be a list of 0 to 255"))?,
            };
            let size = |k: &str| match obj.get(k) {
                None => Ok(None),
                Some(j) => j
                    .as_u64()
                    .filter(|n| *n <= 4096)
                    .map(|n| Some(n as usize))
                    .ok_or_else(|| {
                        err(
                            path,
                            format!("$buffer's {k} must be a whole number up to 4096"),
                        )
                    }),
            };
            let (max_byte_length, resize) = (size("max_byte_length")?, size("resize")?);
            match (max_byte_length, resize) {
                (Some(max), _) if bytes.len() > max => {
                    return Err(err(
                        path,
                        format!(
                            "$buffer's {} bytes exceed its max_byte_length {max} (RangeError)",
                            bytes.len()
                        ),
                    ))
                }
                (Some(max), Some(r)) if r > max => {
                    return Err(err(
                        path,
                        format!(
                            "$buffer's resize {r} exceeds its max_byte_length {max} (RangeError)"
                        ),
                    ))
                }
                (None, Some(_)) => {
                    return Err(err(
                        path,
                        "$buffer's resize needs max_byte_length (only a resizable buffer resizes)",
                    ))
                }
                _ => {}
            }
            Ok(MessageValue::Buffer {
                id,
                bytes,
                max_byte_length,
                resize,
            })
        }
        "$function" | "$symbol" => {
            let name = match inner {
                Json::String(s) => s.clone(),
                Json::Null => String::new(),
                _ => return Err(err(path, format!("{tag} takes a name string"))),
            };
            Ok(if tag == "$function" {
                MessageValue::Function(name)
            } else {
                MessageValue::Symbol(name)
            })
        }
        "$port" => match inner {
            Json::String(s) if !s.is_empty() => Ok(MessageValue::Port(s.clone())),
            _ => Err(err(
                path,
                "$port takes the name of a port a `channel` step made: {$port: p1}",
            )),
        },
        "$domexception" => crate::structured_clone::platform::parse_dom_exception(inner, path),
        "$imagedata" => crate::structured_clone::platform::parse_image_data(inner, path),
        "$blob" | "$file" => crate::structured_clone::platform::parse_blob(tag, inner, path),
        "$sab" => {
            const FIELDS: [&str; 2] = ["bytes", "max_byte_length"];
            let obj = inner
                .as_object()
                .ok_or_else(|| err(path, "$sab takes a map: {bytes: [0, 1]} (bytes 0 to 255)"))?;
            if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
                return Err(err(
                    path,
                    format!("$sab has no field `{k}` (fields: {})", FIELDS.join(", ")),
                ));
            }
            let bytes = match obj.get("bytes") {
                None => Vec::new(),
                Some(b) => byte_list(b)
                    .ok_or_else(|| err(path, "$sab's bytes must be a list of 0 to 255"))?,
            };
            let max_byte_length = match obj.get("max_byte_length") {
                None => None,
                Some(j) => Some(
                    j.as_u64()
                        .filter(|n| *n <= 4096)
                        .map(|n| n as usize)
                        .ok_or_else(|| {
                            err(
                                path,
                                "$sab's max_byte_length must be a whole number up to 4096",
                            )
                        })?,
                ),
            };
            // `new SharedArrayBuffer(length, {maxByteLength})`:
            // AllocateSharedArrayBuffer throws a RangeError when "byteLength
            // > maxByteLength".
            if let Some(max) = max_byte_length.filter(|m| bytes.len() > *m) {
                return Err(err(
                    path,
                    format!(
                        "$sab's {} bytes exceed its max_byte_length {max} (RangeError)",
                        bytes.len()
                    ),
                ));
            }
            Ok(MessageValue::SharedBuffer(SharedBufferData {
                bytes,
                max_byte_length,
            }))
        }
        other => match crate::structured_clone::syntax::parse_tag(other, inner, path, from_json_at)
        {
            Some(result) => result,
            None => Err(err(
                path,
                format!(
                    "unknown tag `{other}`; keys starting with `$` are reserved for: {}",
                    TAGS.join(", ")
                ),
            )),
        },
    }
}

/// [`from_tagged`] for the structured clone syntax module.
pub(crate) fn from_tagged_pub(
    tag: &str,
    inner: &Json,
    path: &str,
) -> Result<MessageValue, MessageFormatError> {
    from_tagged(tag, inner, path)
}

fn yaml_to_json(yaml: &serde_yaml::Value, path: &mut String) -> Result<Json, MessageFormatError> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                let f = n.as_f64().expect("a YAML number is i64, u64 or f64");
                match Number::from_f64(f) {
                    Some(num) => Json::Number(num),
                    None => number_json(f),
                }
            }
        }
        Y::String(s) => Json::String(s.clone()),
        Y::Sequence(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(yaml_to_json(item, path)?);
                path.truncate(len);
            }
            Json::Array(out)
        }
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    _ => return Err(err(path, "object keys must be strings")),
                };
                let len = path.len();
                path.push('.');
                path.push_str(&key);
                out.insert(key, yaml_to_json(v, path)?);
                path.truncate(len);
            }
            Json::Object(out)
        }
        Y::Tagged(t) => {
            return Err(err(
                path,
                format!(
                    "YAML tags like {} are not message values; use the `$` forms ({})",
                    t.tag,
                    TAGS.join(", ")
                ),
            ))
        }
    })
}

/// Observable equality: what a receiver could tell apart.
impl PartialEq for MessageValue {
    fn eq(&self, other: &Self) -> bool {
        self.observable_json() == other.observable_json()
    }
}

/// A `DataCloneError` and the step that threw it, for traces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCloneError(pub String);

pub use crate::structured_clone::SerializeError;

/// An entry of a post's transfer list.
#[derive(Debug, Clone, PartialEq)]
pub enum Transferable {
    /// A buffer named by its `id` in the sending window.
    BufferId(String),
    /// A value written inline (a buffer, or something that is not
    /// transferable at all).
    Value(MessageValue),
}

/// The buffers a document's realm holds, by case ID, and which are detached.
/// Buffers with the same ID in one document are the same object across
/// posts, so a buffer transferred once is detached for every later post of
/// that document. A new document is a new realm (a navigation, even a
/// reload, creates a new Window and with it a new JavaScript realm, unless
/// the initial `about:blank`'s Window is reused), so its buffers start
/// attached: the planner keeps one of these per document, not per window.
/// <https://html.spec.whatwg.org/multipage/document-lifecycle.html#initialise-the-document-object>
#[derive(Debug, Clone, Default)]
pub struct RealmBuffers {
    detached: BTreeSet<String>,
    /// The ports (by case name) this realm transferred away: their
    /// MessagePort objects here have [[Detached]] true.
    detached_ports: BTreeSet<String>,
    /// The ports (by case name) whose live MessagePort object here came in
    /// a message (the transfer-receiving steps made it), not from a
    /// `channel` step here.
    received_ports: BTreeSet<String>,
    /// The realm's settings object's cross-origin isolated capability
    /// (false for every document pmconf can create today).
    pub cross_origin_isolated: bool,
}

impl RealmBuffers {
    /// Whether the buffer with this ID was transferred away.
    pub fn is_detached(&self, id: &str) -> bool {
        self.detached.contains(id)
    }

    /// Whether this realm's MessagePort object named `name` was
    /// transferred away (its [[Detached]] is true).
    pub fn is_port_detached(&self, name: &str) -> bool {
        self.detached_ports.contains(name)
    }

    /// A port was transferred into this realm and its message event's task
    /// ran: the transfer-receiving steps made a new MessagePort object
    /// here, which is not detached (even if this realm once sent the port
    /// away: that old object stays detached, but the case's name now
    /// means the new one).
    /// <https://html.spec.whatwg.org/multipage/web-messaging.html#message-ports:transfer-receiving-steps>
    pub fn port_arrived(&mut self, name: &str) {
        self.detached_ports.remove(name);
        self.received_ports.insert(name.to_owned());
    }

    /// `port.close()` on this realm's object for `name`: "Set this's
    /// [[Detached]] internal slot value to true".
    /// <https://html.spec.whatwg.org/multipage/web-messaging.html#dom-messageport-close>
    pub fn port_closed(&mut self, name: &str) {
        self.detached_ports.insert(name.to_owned());
    }

    /// Whether this realm's live object for `name` came in a message: a
    /// step using it in a later task than the message's waits for it.
    pub fn port_came_in_a_message(&self, name: &str) -> bool {
        self.received_ports.contains(name) && !self.detached_ports.contains(name)
    }
}

/// Converting the `transfer` argument to `sequence<object>` (Web IDL) fails
/// for primitives with a `TypeError`, before any of the post message steps.
///
/// <https://webidl.spec.whatwg.org/#js-sequence>
pub fn transfer_idl_type_error(transfer: &[Transferable]) -> bool {
    transfer.iter().any(|t| match t {
        Transferable::BufferId(_) => false,
        Transferable::Value(v) => matches!(
            v,
            MessageValue::Undefined
                | MessageValue::Null
                | MessageValue::Bool(_)
                | MessageValue::Number(_)
                | MessageValue::String(_)
                | MessageValue::Symbol(_)
                | MessageValue::BigInt(_)
                | MessageValue::Hole
        ),
    })
}

/// StructuredSerializeWithTransfer(value, transferList), as far as it can
/// fail, followed by the transfer's effect (buffers and ports detached).
///
/// <https://html.spec.whatwg.org/multipage/structured-data.html#structuredserializewithtransfer>
pub fn structured_serialize_with_transfer(
    value: &MessageValue,
    transfer_list: &[Transferable],
    realm: &mut RealmBuffers,
) -> Result<(), SerializeError> {
    // 1. Let memory be an empty map.
    let mut memory: BTreeSet<String> = BTreeSet::new();
    let mut ports: BTreeSet<String> = BTreeSet::new();
    // 2. For each transferable of transferList:
    for transferable in transfer_list {
        match transferable {
            Transferable::BufferId(id)
            | Transferable::Value(MessageValue::Buffer { id: Some(id), .. }) => {
                // 2.3. If memory[transferable] exists, then throw a
                //      "DataCloneError" DOMException.
                if !memory.insert(id.clone()) {
                    return Err(SerializeError::DataClone(format!(
                        "step 2.3: buffer `{id}` appears twice in the transfer list"
                    )));
                }
            }
            // An anonymous inline buffer is a distinct object.
            Transferable::Value(MessageValue::Buffer { id: None, .. }) => {}
            // A MessagePort has a [[Detached]] internal slot (it is a
            // transferable platform object), so 2.1 lets it through.
            Transferable::Value(MessageValue::Port(name)) => {
                // 2.3. If memory[transferable] exists, then throw a
                //      "DataCloneError" DOMException.
                if !ports.insert(name.clone()) {
                    return Err(SerializeError::DataClone(format!(
                        "step 2.3: port `{name}` appears twice in the transfer list"
                    )));
                }
            }
            // 2.2. If transferable has an [[ArrayBufferData]] internal slot
            //      and IsSharedArrayBuffer(transferable) is true, then throw
            //      a "DataCloneError" DOMException.
            Transferable::Value(MessageValue::SharedBuffer(_)) => {
                return Err(SerializeError::DataClone(
                    "step 2.2: a SharedArrayBuffer cannot be transferred".into(),
                ))
            }
            // 2.1. If transferable has neither an [[ArrayBufferData]] internal
            //      slot nor a [[Detached]] internal slot, then throw a
            //      "DataCloneError" DOMException.
            Transferable::Value(_) => {
                return Err(SerializeError::DataClone(
                    "step 2.1: a transfer list entry is not transferable".into(),
                ))
            }
        }
    }
    // 3. Let serialized be ? StructuredSerializeInternal(value, false, memory).
    //    (The transferred buffers are in memory too; identity within the
    //    message is by name, so the model's memory starts empty.)
    //    The transferred ports are in memory (2.5 sets memory[transferable]),
    //    keyed `port:NAME` so they cannot meet a `$id` name.
    let names = crate::structured_clone::Names::of(value);
    let mut serialize_memory: crate::structured_clone::serialize::Memory =
        ports.iter().map(|p| format!("port:{p}")).collect();
    crate::structured_clone::serialize::serialize_internal(
        value,
        &names,
        &mut serialize_memory,
        realm,
    )?;
    // 4. Let transferDataHolders be a new empty List.
    // 5. For each transferable of transferList (checks and transfer steps
    //    interleave: an entry transferred before a later one throws stays
    //    detached):
    for transferable in transfer_list {
        match transferable {
            Transferable::BufferId(id)
            | Transferable::Value(MessageValue::Buffer { id: Some(id), .. }) => {
                // 5.1. If transferable has an [[ArrayBufferData]] internal
                //      slot and IsDetachedBuffer(transferable) is true, then
                //      throw a "DataCloneError" DOMException.
                if realm.is_detached(id) {
                    return Err(SerializeError::DataClone(format!(
                        "step 5.1: buffer `{id}` is already detached (transferred by an earlier post)"
                    )));
                }
                // 5.4. ... Perform ? DetachArrayBuffer(transferable).
                realm.detached.insert(id.clone());
            }
            Transferable::Value(MessageValue::Port(name)) => {
                // 5.2. If transferable has a [[Detached]] internal slot and
                //      transferable.[[Detached]] is true, then throw a
                //      "DataCloneError" DOMException.
                if realm.is_port_detached(name) {
                    return Err(SerializeError::DataClone(format!(
                        "step 5.2: port `{name}` is already detached (transferred by an earlier post)"
                    )));
                }
                // 5.5.4. Perform the transfer steps for MessagePort (its
                //        port message queue moves into the data holder).
                // 5.5.5. Set transferable.[[Detached]] to true.
                realm.detached_ports.insert(name.clone());
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(s: &str) -> MessageValue {
        MessageValue::from_yaml(&serde_yaml::from_str(s).unwrap()).unwrap()
    }

    #[test]
    fn plain_values_round_trip() {
        let v = yaml("{a: 1, b: [true, null, 'x'], c: 1.5}");
        assert_eq!(
            v.observable_json(),
            json!({"a": 1, "b": [true, null, "x"], "c": 1.5})
        );
    }

    #[test]
    fn object_keys_follow_javascript_order() {
        let v = yaml("{b: 1, '2': 2, a: 3, '1': 4, '01': 5}");
        let keys: Vec<String> = v
            .observable_json()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["1", "2", "b", "a", "01"]);
    }

    #[test]
    fn special_numbers_and_lone_surrogates_are_tagged() {
        assert_eq!(yaml(".nan").observable_json(), json!({"$number": "NaN"}));
        assert_eq!(
            yaml("-.inf").observable_json(),
            json!({"$number": "-Infinity"})
        );
        assert_eq!(
            yaml("{$number: '-0'}").observable_json(),
            json!({"$number": "-0"})
        );
        assert_eq!(
            yaml("{$utf16: [55296]}").observable_json(),
            json!({"$utf16": [55296]})
        );
        // A well-formed UTF-16 sequence is just a string.
        assert_eq!(yaml("{$utf16: [104, 105]}").observable_json(), json!("hi"));
    }

    #[test]
    fn buffer_ids_are_not_observable() {
        let v = yaml("{$buffer: {id: b1, bytes: [1, 2]}}");
        assert_eq!(v.observable_json(), json!({"$buffer": {"bytes": [1, 2]}}));
        assert_eq!(
            v.to_tagged_json(),
            json!({"$buffer": {"id": "b1", "bytes": [1, 2]}})
        );
        assert_eq!(v.buffer_ids(), ["b1"]);
    }

    #[test]
    fn bad_tags_are_refused_with_a_path() {
        let e = MessageValue::from_yaml(&serde_yaml::from_str("{a: [{$nope: 1}]}").unwrap())
            .unwrap_err();
        assert_eq!(e.path, ".a[0]");
        assert!(e.reason.contains("unknown tag `$nope`"), "{}", e.reason);
        let e = MessageValue::from_yaml(&serde_yaml::from_str("{$function: f, x: 1}").unwrap())
            .unwrap_err();
        assert!(e.reason.contains("one key"));
        let e =
            MessageValue::from_yaml(&serde_yaml::from_str("{$buffer: {bytes: [256]}}").unwrap())
                .unwrap_err();
        assert!(e.reason.contains("0 to 255"));
    }

    #[test]
    fn functions_and_symbols_throw_data_clone_error() {
        let mut realm = RealmBuffers::default();
        assert!(
            structured_serialize_with_transfer(&yaml("{f: {$function: f}}"), &[], &mut realm)
                .is_err()
        );
        assert!(
            structured_serialize_with_transfer(&yaml("[{$symbol: s}]"), &[], &mut realm).is_err()
        );
        assert!(structured_serialize_with_transfer(
            &yaml("[1, 'a', {$undefined: null}]"),
            &[],
            &mut realm
        )
        .is_ok());
    }

    #[test]
    fn transfer_rules() {
        let msg = yaml("{$buffer: {id: b, bytes: [1]}}");
        let mut realm = RealmBuffers::default();
        let twice = [
            Transferable::BufferId("b".into()),
            Transferable::BufferId("b".into()),
        ];
        assert!(structured_serialize_with_transfer(&msg, &twice, &mut realm).is_err());
        assert!(!realm.is_detached("b"), "a failed post transfers nothing");
        let once = [Transferable::BufferId("b".into())];
        assert!(structured_serialize_with_transfer(&msg, &once, &mut realm).is_ok());
        assert!(realm.is_detached("b"));
        // Posting the detached buffer again fails, transferred or not.
        assert!(structured_serialize_with_transfer(&msg, &[], &mut realm).is_err());
        assert!(structured_serialize_with_transfer(&msg, &once, &mut realm).is_err());
        let not_transferable = [Transferable::Value(yaml("{a: 1}"))];
        assert!(
            structured_serialize_with_transfer(&yaml("1"), &not_transferable, &mut realm).is_err()
        );
    }

    #[test]
    fn primitives_in_transfer_are_type_errors() {
        assert!(transfer_idl_type_error(&[Transferable::Value(yaml("1"))]));
        assert!(transfer_idl_type_error(&[Transferable::Value(yaml(
            "{$symbol: s}"
        ))]));
        assert!(!transfer_idl_type_error(&[Transferable::Value(yaml(
            "{a: 1}"
        ))]));
        assert!(!transfer_idl_type_error(&[Transferable::BufferId(
            "b".into()
        )]));
    }

    #[test]
    fn ports_and_shared_buffers_have_tagged_forms() {
        let v = yaml("{p: {$port: p1}, s: {$sab: {bytes: [1, 2]}}}");
        assert_eq!(
            v.observable_json(),
            json!({"p": {"$port": "p1"}, "s": {"$sab": {"bytes": [1, 2]}}})
        );
        assert_eq!(v.port_names(), ["p1"]);
        assert!(v.contains_shared_buffer());
        let e =
            MessageValue::from_yaml(&serde_yaml::from_str("{$sab: {bytes: [1], id: x}}").unwrap())
                .unwrap_err();
        assert!(e.reason.contains("$sab has no field `id`"), "{}", e.reason);
        let e = MessageValue::from_yaml(&serde_yaml::from_str("{$port: 3}").unwrap()).unwrap_err();
        assert!(e.reason.contains("$port takes"), "{}", e.reason);
    }

    #[test]
    fn a_port_serializes_only_when_transferred() {
        let port = yaml("{$port: p}");
        let mut realm = RealmBuffers::default();
        assert!(structured_serialize_with_transfer(&port, &[], &mut realm).is_err());
        let t = [Transferable::Value(port.clone())];
        assert!(structured_serialize_with_transfer(&port, &t, &mut realm).is_ok());
        assert!(realm.is_port_detached("p"));
        // 5.2: detached now.
        assert!(structured_serialize_with_transfer(&yaml("1"), &t, &mut realm).is_err());
        realm.port_arrived("p");
        assert!(structured_serialize_with_transfer(&yaml("1"), &t, &mut realm).is_ok());
    }

    #[test]
    fn shared_buffers_need_the_capability_and_never_transfer() {
        let sab = yaml("{$sab: {bytes: [1]}}");
        let mut realm = RealmBuffers::default();
        assert!(structured_serialize_with_transfer(&sab, &[], &mut realm).is_err());
        realm.cross_origin_isolated = true;
        assert!(structured_serialize_with_transfer(&sab, &[], &mut realm).is_ok());
        // 2.2: a SharedArrayBuffer in the transfer list.
        let t = [Transferable::Value(sab.clone())];
        assert!(structured_serialize_with_transfer(&sab, &t, &mut realm).is_err());
    }

    #[test]
    fn an_entry_before_a_detached_one_is_detached_by_the_failing_call() {
        // Step 5 checks and transfers each entry in turn: `a` is detached
        // before `b` (detached earlier) throws.
        let mut realm = RealmBuffers::default();
        let b = [Transferable::Value(yaml("{$port: b}"))];
        structured_serialize_with_transfer(&yaml("1"), &b, &mut realm).unwrap();
        let both = [
            Transferable::Value(yaml("{$port: a}")),
            Transferable::Value(yaml("{$port: b}")),
        ];
        assert!(structured_serialize_with_transfer(&yaml("1"), &both, &mut realm).is_err());
        assert!(realm.is_port_detached("a"));
    }
}
