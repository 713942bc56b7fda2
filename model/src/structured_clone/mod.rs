//! The structured clone algorithm, for the values a case can post.
//!
//! <https://html.spec.whatwg.org/multipage/structured-data.html>
//!
//! - [`syntax`]: reading (and writing back) the tagged forms of the kinds
//!   beyond JSON (`$map`, `$set`, `$date`, `$regexp`, `$bigint`, `$boxed`,
//!   `$error`, `$typed`, `$dataview`, `$array`, `$id`/`$ref`, `$node`,
//!   `$throwing_getter`, `$non_enumerable`, `$symbol_keyed`, `$hole`).
//! - [`serialize`]: StructuredSerializeInternal, exhaustive over
//!   [`MessageValue`]: what throws, and in which order.
//! - [`number`]: one spelling per Number, so numbers compare by SameValue.
//! - [`deserialize`]: what StructuredDeserialize gives the receiver, in the
//!   same tagged notation (identity as `$id`/`$ref`).

pub mod deserialize;
pub mod number;
pub mod platform;
pub mod serialize;
pub mod syntax;

use crate::message::MessageValue;
use std::collections::BTreeMap;

/// The kinds of ArrayBufferView a case can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    /// `Int8Array`.
    Int8,
    /// `Uint8Array`.
    Uint8,
    /// `Uint8ClampedArray`.
    Uint8Clamped,
    /// `Int16Array`.
    Int16,
    /// `Uint16Array`.
    Uint16,
    /// `Int32Array`.
    Int32,
    /// `Uint32Array`.
    Uint32,
    /// `Float32Array`.
    Float32,
    /// `Float64Array`.
    Float64,
    /// `BigInt64Array`.
    BigInt64,
    /// `BigUint64Array`.
    BigUint64,
    /// `DataView`: its length is in bytes.
    DataView,
}

impl ViewKind {
    /// Every typed array kind (not DataView), for parsing and generators.
    pub const TYPED: [ViewKind; 11] = [
        ViewKind::Int8,
        ViewKind::Uint8,
        ViewKind::Uint8Clamped,
        ViewKind::Int16,
        ViewKind::Uint16,
        ViewKind::Int32,
        ViewKind::Uint32,
        ViewKind::Float32,
        ViewKind::Float64,
        ViewKind::BigInt64,
        ViewKind::BigUint64,
    ];

    /// The constructor's name ([[TypedArrayName]], or `DataView`).
    pub fn name(self) -> &'static str {
        match self {
            ViewKind::Int8 => "Int8Array",
            ViewKind::Uint8 => "Uint8Array",
            ViewKind::Uint8Clamped => "Uint8ClampedArray",
            ViewKind::Int16 => "Int16Array",
            ViewKind::Uint16 => "Uint16Array",
            ViewKind::Int32 => "Int32Array",
            ViewKind::Uint32 => "Uint32Array",
            ViewKind::Float32 => "Float32Array",
            ViewKind::Float64 => "Float64Array",
            ViewKind::BigInt64 => "BigInt64Array",
            ViewKind::BigUint64 => "BigUint64Array",
            ViewKind::DataView => "DataView",
        }
    }

    /// The element size in bytes (1 for DataView, whose length is bytes).
    pub fn element_size(self) -> usize {
        match self {
            ViewKind::Int8 | ViewKind::Uint8 | ViewKind::Uint8Clamped | ViewKind::DataView => 1,
            ViewKind::Int16 | ViewKind::Uint16 => 2,
            ViewKind::Int32 | ViewKind::Uint32 | ViewKind::Float32 => 4,
            ViewKind::Float64 | ViewKind::BigInt64 | ViewKind::BigUint64 => 8,
        }
    }

    /// The typed array kind named `name`.
    pub fn typed_from_name(name: &str) -> Option<ViewKind> {
        Self::TYPED.into_iter().find(|k| k.name() == name)
    }
}

/// The tagged form of a view: `{$typed: {type, buffer, offset, length}}`
/// or `{$dataview: {buffer, offset, length}}`, with `buffer` already
/// written.
pub fn view_json(
    kind: ViewKind,
    buffer: serde_json::Value,
    offset: usize,
    length: Option<usize>,
) -> serde_json::Value {
    let mut inner = serde_json::Map::new();
    if kind != ViewKind::DataView {
        inner.insert("type".into(), kind.name().into());
    }
    inner.insert("buffer".into(), buffer);
    inner.insert("offset".into(), offset.into());
    inner.insert(
        "length".into(),
        length.map_or_else(|| "auto".into(), serde_json::Value::from),
    );
    let tag = if kind == ViewKind::DataView {
        "$dataview"
    } else {
        "$typed"
    };
    crate::message::tagged(tag, serde_json::Value::Object(inner))
}

/// A buffer's bytes once the message is built: as made, then resized
/// (`ArrayBuffer.prototype.resize` keeps the bytes that fit and zeroes
/// new ones).
pub fn buffer_bytes_now(bytes: &[u8], resize: Option<usize>) -> Vec<u8> {
    let mut now = bytes.to_vec();
    if let Some(n) = resize {
        now.resize(n, 0);
    }
    now
}

/// IsArrayBufferViewOutOfBounds for a view over a buffer of `byte_length`
/// bytes now; otherwise the view's length (elements, or bytes for a
/// DataView).
/// <https://tc39.es/ecma262/#sec-isarraybufferviewoutofbounds>
pub fn view_length_now(
    kind: ViewKind,
    offset: usize,
    length: usize,
    tracking: bool,
    byte_length: usize,
) -> Option<usize> {
    let size = kind.element_size();
    if tracking {
        // byteOffsetStart > bufferByteLength: out of bounds; otherwise the
        // length is floor((bufferByteLength - byteOffset) / elementSize).
        (offset <= byte_length).then(|| (byte_length - offset) / size)
    } else {
        (offset + length * size <= byte_length).then_some(length)
    }
}

/// The native error constructors whose names survive serialization
/// (StructuredSerializeInternal step 17.2).
pub const SERIALIZABLE_ERROR_NAMES: [&str; 7] = [
    "Error",
    "EvalError",
    "RangeError",
    "ReferenceError",
    "SyntaxError",
    "TypeError",
    "URIError",
];

/// What StructuredSerializeInternal threw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerializeError {
    /// A "DataCloneError" DOMException, with the step that threw it.
    DataClone(String),
    /// An exception a getter threw, propagated as-is (`?`): its name.
    Thrown(String),
    /// A TypeError an abstract operation the serialization calls throws
    /// (ToString of a Symbol): ECMA-262's "throw a TypeError exception",
    /// created in the current realm, unlike a getter's own exception.
    TypeError(String),
}

/// The objects of one message that have a name: `$id` values and buffers
/// with an `id`, so that `$ref` (and a view's `buffer`) can be resolved.
#[derive(Debug, Default)]
pub struct Names<'a> {
    defs: BTreeMap<&'a str, &'a MessageValue>,
}

impl<'a> Names<'a> {
    /// Collects every named object of `value` (the first definition of a
    /// name wins; [`syntax::check`] refuses real conflicts).
    pub fn of(value: &'a MessageValue) -> Self {
        let mut names = Names::default();
        names.collect(value);
        names
    }

    fn collect(&mut self, value: &'a MessageValue) {
        match value {
            MessageValue::Identified { id, value: inner } => {
                self.defs.entry(id).or_insert(inner);
            }
            MessageValue::Buffer { id: Some(id), .. } => {
                self.defs.entry(id).or_insert(value);
            }
            _ => {}
        }
        for child in children(value) {
            self.collect(child);
        }
    }

    /// The object a name stands for.
    pub fn get(&self, name: &str) -> Option<&'a MessageValue> {
        self.defs.get(name).copied()
    }

    /// `value`'s identity (its name, if it has one) and the object itself
    /// (through `$id` wrappers and `$ref`s).
    pub fn resolve(&self, value: &'a MessageValue) -> (Option<&'a str>, &'a MessageValue) {
        match value {
            MessageValue::Identified { id, value: inner } => (Some(id), inner),
            MessageValue::Ref(id) => match self.get(id) {
                Some(def) => (Some(id), def),
                None => (None, value),
            },
            MessageValue::Buffer { id: Some(id), .. } => (Some(id), value),
            _ => (None, value),
        }
    }
}

/// The values directly inside `value`, in the order serialization (and a
/// receiver walking the result) meets them: array items then extra
/// properties, object properties in [[OwnPropertyKeys]] order, a map's key
/// then value per entry, a set's values, a view's buffer. Non-enumerable
/// and symbol-keyed properties are not among them.
pub fn children(value: &MessageValue) -> Vec<&MessageValue> {
    match value {
        MessageValue::Array(items) => items.iter().collect(),
        MessageValue::ArrayWithProps { items, props } => {
            items.iter().chain(props.iter().map(|(_, v)| v)).collect()
        }
        MessageValue::Object(entries) => crate::message::ordinary_own_property_keys(entries)
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
        MessageValue::Map(entries) => entries.iter().flat_map(|(k, v)| [k, v]).collect(),
        MessageValue::Set(items) => items.iter().collect(),
        MessageValue::View { buffer, .. } => vec![buffer],
        MessageValue::Unlisted { value, .. } | MessageValue::Identified { value, .. } => {
            vec![value]
        }
        MessageValue::Boxed(inner) => vec![inner],
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
        | MessageValue::Date(_)
        | MessageValue::RegExp { .. }
        | MessageValue::Error { .. }
        | MessageValue::Ref(_)
        | MessageValue::Node(_)
        | MessageValue::Port(_)
        | MessageValue::SharedBuffer(_)
        | MessageValue::DomException { .. }
        | MessageValue::ImageData { .. }
        | MessageValue::Blob { .. }
        | MessageValue::ThrowingGetter(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
