//! StructuredSerializeInternal ( value, forStorage [ , memory ] ), as far
//! as it can throw: which exception, from which step, in which order.
//!
//! <https://html.spec.whatwg.org/multipage/structured-data.html#structuredserializeinternal>
//!
//! The match below is exhaustive on purpose: a new [`MessageValue`] kind
//! must say which step handles it, or the model does not compile.

use super::{Names, SerializeError};
use crate::message::{MessageValue, RealmBuffers};
use std::collections::BTreeSet;

/// The part of `memory` the model needs: the names of the objects already
/// serialized (an object without a name occurs once, so it cannot be met
/// twice).
pub type Memory = BTreeSet<String>;

fn data_clone(step: &str, why: impl std::fmt::Display) -> SerializeError {
    SerializeError::DataClone(format!("StructuredSerializeInternal step {step}: {why}"))
}

/// StructuredSerializeInternal(value, false, memory).
pub fn serialize_internal(
    value: &MessageValue,
    names: &Names<'_>,
    memory: &mut Memory,
    realm: &RealmBuffers,
) -> Result<(), SerializeError> {
    // 2. If memory[value] exists, then return memory[value].
    let (name, value) = names.resolve(value);
    if let Some(name) = name {
        // 25. Set memory[value] to serialized. (Set before the deep part;
        //     NOTE: the spec sets it after steps 7-24, which only matters
        //     for a view whose buffer is the view itself, not writable.)
        if !memory.insert(name.to_owned()) {
            return Ok(());
        }
    }
    match value {
        // 4. If Type(value) is Undefined, Null, Boolean, Number, BigInt, or
        //    String, then return { [[Type]]: "primitive", [[Value]]: value }.
        MessageValue::Undefined
        | MessageValue::Null
        | MessageValue::Bool(_)
        | MessageValue::Number(_)
        | MessageValue::String(_)
        | MessageValue::BigInt(_) => Ok(()),
        // 5. If Type(value) is Symbol, then throw a "DataCloneError".
        MessageValue::Symbol(d) => {
            Err(data_clone("5", format!("Symbol({d}) cannot be serialized")))
        }
        MessageValue::Boxed(inner) => match inner.as_ref() {
            // 7-10. [[BooleanData]], [[NumberData]], [[BigIntData]],
            //       [[StringData]]: copied.
            MessageValue::Bool(_)
            | MessageValue::Number(_)
            | MessageValue::BigInt(_)
            | MessageValue::String(_) => Ok(()),
            // 22. Otherwise, if value has any internal slot other than
            //     [[Prototype]], [[Extensible]], or [[PrivateElements]]
            //     (here [[SymbolData]]), then throw a "DataCloneError".
            other => Err(data_clone(
                "22",
                format!("a wrapper of {other:?} has an internal slot that cannot be serialized"),
            )),
        },
        // 11. [[DateValue]]: copied.
        MessageValue::Date(_) => Ok(()),
        // 12. [[RegExpMatcher]], [[OriginalSource]], [[OriginalFlags]]
        //     (lastIndex, an own property, is not read).
        MessageValue::RegExp { .. } => Ok(()),
        // 13. Otherwise, if value has an [[ArrayBufferData]] internal slot:
        //     13.2.1. If IsDetachedBuffer(value) is true, then throw a
        //             "DataCloneError" DOMException.
        MessageValue::Buffer { id: Some(id), .. } if realm.is_detached(id) => {
            Err(data_clone("13.2.1", format!("buffer `{id}` is detached")))
        }
        //     13.2.2-6. Otherwise the bytes are copied; 13.2.3: "If
        //     IsResizableArrayBuffer(value) is true", with its
        //     [[ArrayBufferMaxByteLength]] too.
        MessageValue::Buffer { .. } => Ok(()),
        // 14. Otherwise, if value has a [[ViewedArrayBuffer]] internal slot:
        MessageValue::View {
            kind,
            buffer,
            offset,
            length,
            tracking,
        } => {
            // 14.1. If IsArrayBufferViewOutOfBounds(value) is true, then
            //       throw a "DataCloneError". A view over a detached
            //       buffer is out of bounds; so is a fixed-length view past
            //       the end of a resizable buffer shrunk after it was made,
            //       or a length-tracking one whose offset is past it.
            if let (_, MessageValue::Buffer { id: Some(id), .. }) = names.resolve(buffer) {
                if realm.is_detached(id) {
                    return Err(data_clone(
                        "14.1",
                        format!("the view's buffer `{id}` is detached"),
                    ));
                }
            }
            if let (_, MessageValue::Buffer { bytes, resize, .. }) = names.resolve(buffer) {
                let now = super::buffer_bytes_now(bytes, *resize).len();
                if super::view_length_now(*kind, *offset, *length, *tracking, now).is_none() {
                    return Err(data_clone(
                        "14.1",
                        format!(
                            "the {} is out of bounds: its buffer was resized to {now} bytes",
                            kind.name()
                        ),
                    ));
                }
            }
            // 14.3. Let bufferSerialized be ? StructuredSerializeInternal(
            //       buffer, forStorage, memory).
            serialize_internal(buffer, names, memory, realm)
        }
        // 15. [[MapData]]: deep. 26.1.3. For each entry of copiedList:
        //     serializedKey, then serializedValue, each with `?`.
        MessageValue::Map(entries) => entries.iter().try_for_each(|(k, v)| {
            serialize_internal(k, names, memory, realm)?;
            serialize_internal(v, names, memory, realm)
        }),
        // 16. [[SetData]]: deep. 26.2.3. For each entry: `?`.
        MessageValue::Set(items) => items
            .iter()
            .try_for_each(|v| serialize_internal(v, names, memory, realm)),
        // 17. [[ErrorData]] and not a platform object: 17.1 `? Get(value,
        //     "name")` and 17.3 `? [[GetOwnProperty]]("message")` cannot
        //     throw for the errors a case can build (data properties).
        //     An Error made in another realm (`realm: W`) has [[ErrorData]]
        //     all the same; Get(value, "name") finds W's
        //     %NativeError.prototype%.name, the same string as any realm's
        //     (a case cannot change a prototype), and `message` is own: the
        //     serialization, and so what arrives, is the same;
        //     17.5 "If IsDataDescriptor(valueMessageDesc) is true, then set
        //     message to ? ToString(valueMessageDesc.[[Value]])": a Symbol
        //     throws TypeError. Other own properties are not read.
        MessageValue::Error {
            message_value: Some(v),
            ..
        } => crate::call_args::to_string_of(v)
            .map(|_| ())
            .map_err(|_| SerializeError::TypeError("ToString of the message's Symbol".into())),
        MessageValue::Error { .. } => Ok(()),
        // 19. Otherwise, if value is a platform object that is a
        //     serializable object: its serialization steps, which for
        //     these three copy plain data and cannot throw.
        MessageValue::DomException { .. }
        | MessageValue::ImageData { .. }
        | MessageValue::Blob { .. } => Ok(()),
        // 18. Array exotic object: deep; 26.4. for each key in
        //     EnumerableOwnProperties(value, key) (indices, then other
        //     keys; holes are not own properties): `? [[Get]]`, then
        //     `? StructuredSerializeInternal`.
        MessageValue::Array(items) => items
            .iter()
            .try_for_each(|v| serialize_property(v, names, memory, realm)),
        MessageValue::ArrayWithProps { items, props } => items
            .iter()
            .chain(props.iter().map(|(_, v)| v))
            .try_for_each(|v| serialize_property(v, names, memory, realm)),
        // 24. Otherwise: { [[Type]]: "Object" }; deep; 26.4 as for arrays,
        //     keys in [[OwnPropertyKeys]] order.
        MessageValue::Object(entries) => crate::message::ordinary_own_property_keys(entries)
            .into_iter()
            .try_for_each(|(_, v)| serialize_property(v, names, memory, realm)),
        // 26.4. EnumerableOwnProperties(value, key) lists neither
        //       non-enumerable properties nor symbol keys: never read.
        MessageValue::Unlisted { value, .. } => serialize_internal(value, names, memory, realm),
        // 20. Otherwise, if value is a platform object (not serializable),
        //     then throw a "DataCloneError" DOMException.
        MessageValue::Node(name) => Err(data_clone(
            "20",
            format!("<{name}> is a platform object that is not serializable"),
        )),
        // 21. Otherwise, if IsCallable(value) is true, then throw a
        //     "DataCloneError" DOMException.
        MessageValue::Function(n) => Err(data_clone(
            "21",
            format!("function {n} cannot be serialized"),
        )),
        // 26.4.1.1. Let inputValue be ? value.[[Get]](key, value): the
        //           getter's exception propagates as it is.
        MessageValue::ThrowingGetter(name) => Err(SerializeError::Thrown(name.clone())),
        // Resolved above by `names.resolve`; an unresolved one was refused
        // when the case was read.
        MessageValue::Identified { value, .. } => serialize_internal(value, names, memory, realm),
        MessageValue::Ref(id) => Err(data_clone("2", format!("no object named `{id}`"))),
        // A hole is the absence of a property: 26.4 never meets it.
        MessageValue::Hole => Ok(()),
        // 2. If memory[value] exists, then return memory[value]: a port in
        //    the transfer list was put in memory by
        //    StructuredSerializeWithTransfer step 2.5 (keyed `port:NAME`).
        MessageValue::Port(name) if memory.contains(&format!("port:{name}")) => Ok(()),
        // 20. Otherwise, if value is a platform object that is not a
        //     serializable object (MessagePort is transferable only), then
        //     throw a "DataCloneError" DOMException.
        MessageValue::Port(name) => Err(data_clone(
            "20",
            format!("port `{name}` is not serializable (only transferable), and the transfer list does not hold it"),
        )),
        // 13.1. If IsSharedArrayBuffer(value) is true, then:
        //   13.1.1. If the current settings object's cross-origin isolated
        //           capability is false, then throw a "DataCloneError".
        MessageValue::SharedBuffer(_) if !realm.cross_origin_isolated => Err(data_clone(
            "13.1.1",
            "SharedArrayBuffer, and the sender is not cross-origin isolated",
        )),
        //   13.1.3. "If value has an [[ArrayBufferMaxByteLength]] internal
        //           slot, then set serialized to { [[Type]]:
        //           "GrowableSharedArrayBuffer", [[ArrayBufferData]]:
        //           value.[[ArrayBufferData]], [[ArrayBufferByteLengthData]]:
        //           value.[[ArrayBufferByteLengthData]],
        //           [[ArrayBufferMaxByteLength]]:
        //           value.[[ArrayBufferMaxByteLength]], [[AgentCluster]]: the
        //           surrounding agent's agent cluster }."
        //   13.1.4. "Otherwise, set serialized to { [[Type]]:
        //           "SharedArrayBuffer", [[ArrayBufferData]]: [...],
        //           [[ArrayBufferByteLength]]: [...], [[AgentCluster]]: [...] }."
        //   Either way the data block itself, not a copy: the receiver's
        //   buffer shares the sender's memory ([`crate::message::SharedBufferData`] keeps
        //   the maximum for the growable form).
        MessageValue::SharedBuffer(_) => Ok(()),
    }
}

/// 26.4.1. For a property of an object or array: its value (a hole has
/// none and is skipped by EnumerableOwnProperties).
fn serialize_property(
    value: &MessageValue,
    names: &Names<'_>,
    memory: &mut Memory,
    realm: &RealmBuffers,
) -> Result<(), SerializeError> {
    match value {
        MessageValue::Hole => Ok(()),
        other => serialize_internal(other, names, memory, realm),
    }
}
