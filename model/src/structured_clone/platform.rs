//! Serializable platform objects a case can post: `DOMException`,
//! `ImageData`, `Blob` and `File`.
//!
//! Each is a serializable object (its interface is `[Serializable]`), so
//! StructuredSerializeInternal step 19 runs its serialization steps, and
//! StructuredDeserialize its deserialization steps, in a new object of the
//! same interface in the target realm:
//! <https://html.spec.whatwg.org/multipage/structured-data.html#serializable-objects>
//!
//! - DOMException: "Set serialized.[[Name]] to value's name. Set
//!   serialized.[[Message]] to value's message." and back; `code` is not
//!   serialized but follows the name (Web IDL's DOMException names table,
//!   0 for any other name).
//!   <https://webidl.spec.whatwg.org/#idl-DOMException>
//! - ImageData: "Set serialized.[[Data]] to the sub-serialization of the
//!   value of value's data attribute. Set serialized.[[Width]] ...
//!   [[Height]] ... [[ColorSpace]]". A case's ImageData is srgb.
//!   <https://html.spec.whatwg.org/multipage/canvas.html#imagedata>
//! - Blob: its snapshot state (bytes) and `type`; File adds `name` and
//!   `lastModified`. A receiver reads `type`, `size` and `name` at once,
//!   the bytes only asynchronously (`arrayBuffer()`).
//!   <https://w3c.github.io/FileAPI/#blob-section>

use crate::message::{bytes_json, tagged, MessageFormatError, MessageValue};
use serde_json::{Map, Value as Json};

/// Web IDL's DOMException names table: the legacy code of each name that
/// has one.
pub const DOM_EXCEPTION_CODES: [(&str, u16); 21] = [
    ("IndexSizeError", 1),
    ("HierarchyRequestError", 3),
    ("WrongDocumentError", 4),
    ("InvalidCharacterError", 5),
    ("NoModificationAllowedError", 7),
    ("NotFoundError", 8),
    ("NotSupportedError", 9),
    ("InvalidStateError", 11),
    ("SyntaxError", 12),
    ("InvalidModificationError", 13),
    ("NamespaceError", 14),
    ("InvalidAccessError", 15),
    ("TypeMismatchError", 17),
    ("SecurityError", 18),
    ("NetworkError", 19),
    ("AbortError", 20),
    ("URLMismatchError", 21),
    ("QuotaExceededError", 22),
    ("TimeoutError", 23),
    ("InvalidNodeTypeError", 24),
    ("DataCloneError", 25),
];

/// The `code` getter: "return the legacy code indicated in the DOMException
/// names table for this's name, or 0 if no such entry exists".
pub fn dom_exception_code(name: &str) -> u16 {
    DOM_EXCEPTION_CODES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, c)| *c)
}

fn err(path: &str, reason: impl Into<String>) -> MessageFormatError {
    MessageFormatError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn fields<'a>(
    inner: &'a Json,
    path: &str,
    tag: &str,
    allowed: &[&str],
) -> Result<&'a Map<String, Json>, MessageFormatError> {
    let usage = format!("{tag} takes a map with fields {}", allowed.join(", "));
    let obj = inner.as_object().ok_or_else(|| err(path, &usage))?;
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(err(path, format!("{tag} has no field `{k}`; {usage}")));
    }
    Ok(obj)
}

fn text(
    obj: &Map<String, Json>,
    k: &str,
    path: &str,
    tag: &str,
) -> Result<String, MessageFormatError> {
    match obj.get(k) {
        None => Ok(String::new()),
        Some(Json::String(s)) => Ok(s.clone()),
        Some(_) => Err(err(path, format!("{tag}'s {k} must be a string"))),
    }
}

fn bytes(
    obj: &Map<String, Json>,
    k: &str,
    path: &str,
    tag: &str,
) -> Result<Vec<u8>, MessageFormatError> {
    match obj.get(k) {
        None => Ok(Vec::new()),
        Some(b) => crate::message::byte_list(b)
            .ok_or_else(|| err(path, format!("{tag}'s {k} must be a list of 0 to 255"))),
    }
}

/// `{$domexception: {name, message}}`: `new DOMException(message, name)`.
pub fn parse_dom_exception(inner: &Json, path: &str) -> Result<MessageValue, MessageFormatError> {
    let obj = fields(inner, path, "$domexception", &["name", "message"])?;
    let name = match obj.get("name") {
        None => "Error".to_owned(),
        Some(_) => text(obj, "name", path, "$domexception")?,
    };
    Ok(MessageValue::DomException {
        name,
        message: text(obj, "message", path, "$domexception")?,
    })
}

/// `{$imagedata: {width, height, data}}`: `new ImageData(new
/// Uint8ClampedArray(data), width, height)`; data holds 4 bytes a pixel.
pub fn parse_image_data(inner: &Json, path: &str) -> Result<MessageValue, MessageFormatError> {
    let obj = fields(inner, path, "$imagedata", &["width", "height", "data"])?;
    let size = |k: &str| {
        obj.get(k)
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| {
                err(
                    path,
                    format!("$imagedata's {k} must be a whole number from 1 to 64"),
                )
            })
    };
    let (width, height) = (size("width")?, size("height")?);
    let data = bytes(obj, "data", path, "$imagedata")?;
    if data.len() != 4 * width as usize * height as usize {
        return Err(err(
            path,
            format!(
                "$imagedata's data has {} bytes; a {width}x{height} image has {} (4 a pixel; the constructor throws otherwise)",
                data.len(),
                4 * width * height
            ),
        ));
    }
    Ok(MessageValue::ImageData {
        width,
        height,
        data,
    })
}

/// `{$blob: {type, bytes}}` and `{$file: {name, type, last_modified,
/// bytes}}`.
pub fn parse_blob(tag: &str, inner: &Json, path: &str) -> Result<MessageValue, MessageFormatError> {
    let allowed: &[&str] = if tag == "$file" {
        &["name", "type", "last_modified", "bytes"]
    } else {
        &["type", "bytes"]
    };
    let obj = fields(inner, path, tag, allowed)?;
    let media_type = text(obj, "type", path, tag)?;
    // The Blob constructor keeps `type` only when every code point is in
    // U+0020 to U+007E, and lowercases it: a case writes it as it comes out.
    if !media_type
        .chars()
        .all(|c| (' '..='~').contains(&c) && !c.is_ascii_uppercase())
    {
        return Err(err(
            path,
            format!("{tag}'s type `{media_type}` must be printable ASCII without uppercase (the constructor lowercases it, or drops it)"),
        ));
    }
    let file = if tag == "$file" {
        let last_modified = match obj.get("last_modified") {
            Some(j) => j
                .as_i64()
                .filter(|n| n.abs() <= 8_640_000_000_000_000)
                .ok_or_else(|| err(path, "$file's last_modified must be a whole number of ms"))?,
            None => return Err(err(path, "$file needs last_modified (ms since the epoch): the default is the current time, which no case can know")),
        };
        Some((text(obj, "name", path, tag)?, last_modified))
    } else {
        None
    };
    Ok(MessageValue::Blob {
        media_type,
        bytes: bytes(obj, "bytes", path, tag)?,
        file,
    })
}

/// The receiver's view of a DOMException, an ImageData or a Blob/File; and
/// the tagged form that builds it (the same but `code` and `size`).
pub fn observe_platform(value: &MessageValue, observed: bool) -> Json {
    match value {
        MessageValue::DomException { name, message } => {
            let mut inner = Map::new();
            inner.insert("name".into(), Json::String(name.clone()));
            inner.insert("message".into(), Json::String(message.clone()));
            if observed {
                inner.insert("code".into(), Json::from(dom_exception_code(name)));
            }
            tagged("$domexception", Json::Object(inner))
        }
        MessageValue::ImageData {
            width,
            height,
            data,
        } => {
            let mut inner = Map::new();
            inner.insert("width".into(), Json::from(*width));
            inner.insert("height".into(), Json::from(*height));
            inner.insert("data".into(), bytes_json(data));
            tagged("$imagedata", Json::Object(inner))
        }
        MessageValue::Blob {
            media_type,
            bytes,
            file,
        } => {
            let mut inner = Map::new();
            if let Some((name, last_modified)) = file {
                inner.insert("name".into(), Json::String(name.clone()));
                let key = if observed {
                    "lastModified"
                } else {
                    "last_modified"
                };
                inner.insert(key.into(), Json::from(*last_modified));
            }
            inner.insert("type".into(), Json::String(media_type.clone()));
            if observed {
                inner.insert("size".into(), Json::from(bytes.len()));
            }
            inner.insert("bytes".into(), bytes_json(bytes));
            let tag = if file.is_some() { "$file" } else { "$blob" };
            tagged(tag, Json::Object(inner))
        }
        _ => unreachable!("only platform objects"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(s: &str) -> Result<MessageValue, MessageFormatError> {
        MessageValue::from_yaml(&serde_yaml::from_str(s).unwrap())
    }

    #[test]
    fn a_dom_exception_arrives_with_its_name_message_and_the_tables_code() {
        // Codes from Web IDL's DOMException names table, by hand.
        let v = yaml("{$domexception: {name: DataCloneError, message: m}}").unwrap();
        assert_eq!(
            v.observable_json(),
            json!({"$domexception": {"name": "DataCloneError", "message": "m", "code": 25}})
        );
        let v = yaml("{$domexception: {name: EncodingError, message: ''}}").unwrap();
        assert_eq!(v.observable_json()["$domexception"]["code"], 0);
        assert_eq!(dom_exception_code("IndexSizeError"), 1);
        assert_eq!(dom_exception_code("TimeoutError"), 23);
    }

    #[test]
    fn image_data_and_blobs_arrive_whole() {
        let v = yaml("{$imagedata: {width: 1, height: 1, data: [1, 2, 3, 4]}}").unwrap();
        assert_eq!(
            v.observable_json(),
            json!({"$imagedata": {"width": 1, "height": 1, "data": [1, 2, 3, 4]}})
        );
        let v =
            yaml("{$file: {name: a.txt, type: text/plain, last_modified: 42, bytes: [104, 105]}}")
                .unwrap();
        assert_eq!(
            v.observable_json(),
            json!({"$file": {"name": "a.txt", "lastModified": 42, "type": "text/plain", "size": 2, "bytes": [104, 105]}})
        );
        assert_eq!(
            v.to_tagged_json(),
            json!({"$file": {"name": "a.txt", "last_modified": 42, "type": "text/plain", "bytes": [104, 105]}})
        );
    }

    #[test]
    fn misuse_is_refused_with_a_reason() {
        let reason = |s: &str| yaml(s).unwrap_err().reason;
        assert!(
            reason("{$imagedata: {width: 2, height: 1, data: [1, 2, 3, 4]}}")
                .contains("has 4 bytes; a 2x1 image has 8")
        );
        assert!(reason("{$blob: {type: Text/Plain}}").contains("without uppercase"));
        assert!(reason("{$file: {name: a, bytes: []}}").contains("needs last_modified"));
        assert!(reason("{$domexception: {name: X, code: 3}}").contains("no field `code`"));
    }
}
