//! The arguments of a raw call as a case writes them: message values, and
//! objects whose members may be getters that throw.

use crate::message::{MessageFormatError, MessageValue};
use serde_json::{Map, Value as Json};

/// One argument of a raw `postMessage(...)` call.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// A value in the message syntax.
    Value(MessageValue),
    /// An ordinary object with at least one getter among its members (at
    /// any depth of nested such objects), members in the order written.
    Object(Vec<(String, Member)>),
}

/// A member of an [`ArgValue::Object`].
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    /// A data property.
    Data(ArgValue),
    /// An enumerable accessor property whose getter throws a new error of
    /// this constructor's name (`new RangeError(...)`).
    ThrowingGetter(String),
}

/// The error constructors a `$throwing_getter` may name: ECMAScript's
/// NativeError constructors and `Error` (every global realm has them).
pub const GETTER_ERRORS: &[&str] = &[
    "Error",
    "EvalError",
    "RangeError",
    "ReferenceError",
    "SyntaxError",
    "TypeError",
    "URIError",
];

const GETTER_TAG: &str = "$throwing_getter";

impl ArgValue {
    /// Reads an argument from YAML: a message value, or an object holding
    /// `{$throwing_getter: Name}` members.
    ///
    /// NOTE: the structured-clone kinds (`$map`, `$date`, `$typed`...) are
    /// message values only. An argument after the message goes through Web
    /// IDL conversion (ToString, a dictionary, a sequence), which the model
    /// computes for the plain kinds; those kinds are refused here.
    pub fn from_yaml(yaml: &serde_yaml::Value) -> Result<Self, MessageFormatError> {
        let arg = from_yaml_at(yaml, &mut String::new())?;
        if let Some(kind) = arg.first_unconverted_kind() {
            return Err(MessageFormatError {
                path: String::new(),
                reason: format!(
                    "{kind} is a message value only: after the message, arguments are plain values, arrays, objects, `$buffer`, `$function` or `$symbol` (the model does not convert {kind} to a string, dictionary or sequence)"
                ),
            });
        }
        Ok(arg)
    }

    /// The windows whose realms make this argument's Errors (`$error`'s
    /// `realm`), at any depth.
    pub fn error_realms(&self) -> Vec<String> {
        self.names(MessageValue::error_realms)
    }

    /// The ports (`$port: name`) this argument names, at any depth.
    pub fn port_names(&self) -> Vec<String> {
        self.names(MessageValue::port_names)
    }

    /// What `of` lists of each message value in this argument, at any depth.
    fn names(&self, of: fn(&MessageValue) -> Vec<String>) -> Vec<String> {
        match self {
            ArgValue::Value(m) => of(m),
            ArgValue::Object(members) => members
                .iter()
                .flat_map(|(_, m)| match m {
                    Member::Data(a) => a.names(of),
                    Member::ThrowingGetter(_) => Vec::new(),
                })
                .collect(),
        }
    }

    /// The first value kind in this argument that Web IDL conversion is not
    /// modelled for (see [`ArgValue::from_yaml`]).
    fn first_unconverted_kind(&self) -> Option<&'static str> {
        match self {
            ArgValue::Value(m) => unconverted_kind(m),
            ArgValue::Object(members) => members.iter().find_map(|(_, m)| match m {
                Member::Data(a) => a.first_unconverted_kind(),
                Member::ThrowingGetter(_) => None,
            }),
        }
    }

    /// The argument in the case syntax (buffer ids kept): what a page needs
    /// to build it.
    pub fn to_tagged_json(&self) -> Json {
        match self {
            ArgValue::Value(v) => v.to_tagged_json(),
            ArgValue::Object(members) => Json::Object(
                members
                    .iter()
                    .map(|(k, m)| {
                        let v = match m {
                            Member::Data(v) => v.to_tagged_json(),
                            Member::ThrowingGetter(name) => {
                                let mut tag = Map::new();
                                tag.insert(GETTER_TAG.into(), Json::String(name.clone()));
                                Json::Object(tag)
                            }
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
        }
    }

    /// The argument as the message argument: `any` converts to the value
    /// itself. NOTE: validation reads the first argument as a message
    /// value, so it never holds getters here (a getter in a message is a
    /// message value of its own); an object with getters keeps its data
    /// members.
    pub fn message_value(&self) -> MessageValue {
        match self {
            ArgValue::Value(v) => v.clone(),
            ArgValue::Object(members) => MessageValue::Object(
                members
                    .iter()
                    .filter_map(|(k, m)| match m {
                        Member::Data(v) => Some((k.clone(), v.message_value())),
                        Member::ThrowingGetter(_) => None,
                    })
                    .collect(),
            ),
        }
    }

    /// Every buffer id the argument mentions.
    pub fn buffer_ids(&self) -> Vec<String> {
        match self {
            ArgValue::Value(v) => v.buffer_ids(),
            ArgValue::Object(members) => {
                let mut out: Vec<String> = Vec::new();
                for (_, m) in members {
                    if let Member::Data(v) = m {
                        for id in v.buffer_ids() {
                            if !out.contains(&id) {
                                out.push(id);
                            }
                        }
                    }
                }
                out
            }
        }
    }
}

fn format_error(path: &str, reason: impl Into<String>) -> MessageFormatError {
    MessageFormatError {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn getter_name(yaml: &serde_yaml::Value) -> Option<&serde_yaml::Value> {
    match yaml {
        serde_yaml::Value::Mapping(m) if m.len() == 1 => m.get(GETTER_TAG),
        _ => None,
    }
}

fn has_getter(yaml: &serde_yaml::Value) -> bool {
    match yaml {
        serde_yaml::Value::Mapping(m) => {
            getter_name(yaml).is_some() || m.iter().any(|(_, v)| has_getter(v))
        }
        serde_yaml::Value::Sequence(items) => items.iter().any(has_getter),
        _ => false,
    }
}

fn from_yaml_at(
    yaml: &serde_yaml::Value,
    path: &mut String,
) -> Result<ArgValue, MessageFormatError> {
    if !has_getter(yaml) {
        return MessageValue::from_yaml(yaml)
            .map(ArgValue::Value)
            .map_err(|mut e| {
                e.path = format!("{path}{}", e.path);
                e
            });
    }
    let serde_yaml::Value::Mapping(map) = yaml else {
        return Err(format_error(
            path,
            "a `$throwing_getter` is a member of an object (`{key: {$throwing_getter: RangeError}}`), not an array element",
        ));
    };
    if getter_name(yaml).is_some() {
        return Err(format_error(
            path,
            "a `$throwing_getter` is a member's value (`{key: {$throwing_getter: RangeError}}`), not an argument by itself",
        ));
    }
    let mut members = Vec::new();
    for (k, v) in map {
        let serde_yaml::Value::String(key) = k else {
            return Err(format_error(path, "object keys must be strings"));
        };
        let len = path.len();
        path.push('.');
        path.push_str(key);
        let member = match getter_name(v) {
            Some(serde_yaml::Value::String(name)) if GETTER_ERRORS.contains(&name.as_str()) => {
                Member::ThrowingGetter(name.clone())
            }
            Some(_) => {
                return Err(format_error(
                    path,
                    format!(
                        "$throwing_getter takes one of: {}",
                        GETTER_ERRORS.join(", ")
                    ),
                ))
            }
            None => Member::Data(from_yaml_at(v, path)?),
        };
        path.truncate(len);
        members.push((key.clone(), member));
    }
    Ok(ArgValue::Object(members))
}

/// The tag of `m`, or of a value inside it, when it is a kind whose Web IDL
/// conversion the model does not compute.
pub(super) fn unconverted_kind(m: &MessageValue) -> Option<&'static str> {
    match m {
        MessageValue::Undefined
        | MessageValue::Null
        | MessageValue::Bool(_)
        | MessageValue::Number(_)
        | MessageValue::String(_)
        | MessageValue::Buffer { .. }
        | MessageValue::Function(_)
        | MessageValue::Symbol(_) => None,
        MessageValue::Array(items) => items.iter().find_map(unconverted_kind),
        MessageValue::Object(entries) => entries.iter().find_map(|(_, v)| unconverted_kind(v)),
        MessageValue::Hole => Some("`$hole`"),
        MessageValue::BigInt(_) => Some("`$bigint`"),
        MessageValue::Boxed(_) => Some("`$boxed`"),
        MessageValue::Date(_) => Some("`$date`"),
        MessageValue::RegExp { .. } => Some("`$regexp`"),
        MessageValue::Map(_) => Some("`$map`"),
        MessageValue::Set(_) => Some("`$set`"),
        MessageValue::Error { .. } => Some("`$error`"),
        MessageValue::View { .. } => Some("`$typed`/`$dataview`"),
        MessageValue::ArrayWithProps { .. } => Some("`$array`"),
        MessageValue::Unlisted { .. } => Some("`$non_enumerable`/`$symbol_keyed`"),
        MessageValue::Identified { .. } => Some("`$id`"),
        MessageValue::Ref(_) => Some("`$ref`"),
        MessageValue::Node(_) => Some("`$node`"),
        MessageValue::ThrowingGetter(_) => Some("`$throwing_getter`"),
        // A MessagePort is a platform object: an Object to Web IDL, whose
        // ToString is "[object MessagePort]", which has no `targetOrigin`
        // or `transfer` property, and which is not iterable.
        MessageValue::Port(_) => None,
        MessageValue::SharedBuffer(_) => Some("`$sab`"),
        MessageValue::DomException { .. } => Some("`$domexception`"),
        MessageValue::ImageData { .. } => Some("`$imagedata`"),
        MessageValue::Blob { .. } => Some("`$blob`/`$file`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(s: &str) -> ArgValue {
        ArgValue::from_yaml(&serde_yaml::from_str(s).unwrap()).unwrap()
    }

    #[test]
    fn getters_are_only_object_members() {
        let bad = |s: &str| ArgValue::from_yaml(&serde_yaml::from_str(s).unwrap()).unwrap_err();
        assert!(bad("{$throwing_getter: RangeError}")
            .reason
            .contains("member's value"));
        assert!(bad("[{a: {$throwing_getter: RangeError}}]")
            .reason
            .contains("not an array element"));
        let e = bad("{a: {$throwing_getter: Oops}}");
        assert_eq!(e.path, ".a");
        assert!(e.reason.contains("RangeError"));
        assert_eq!(
            arg("{a: {$throwing_getter: RangeError}, b: 1}").to_tagged_json(),
            serde_json::json!({"a": {"$throwing_getter": "RangeError"}, "b": 1})
        );
    }

    #[test]
    fn structured_clone_kinds_are_refused_after_the_message() {
        let bad = |s: &str| ArgValue::from_yaml(&serde_yaml::from_str(s).unwrap()).unwrap_err();
        // Web IDL converts a second argument to a string or a dictionary;
        // the model computes that for the plain kinds only.
        assert!(bad("{$date: 0}")
            .reason
            .contains("`$date` is a message value only"));
        assert!(bad("{transfer: [{$map: []}]}").reason.contains("`$map`"));
        // Plain values, objects with getters and buffers still are arguments.
        assert_eq!(arg("\"*\"").to_tagged_json(), serde_json::json!("*"));
        arg("{transfer: [{$buffer: {id: b, bytes: [1]}}], targetOrigin: {$throwing_getter: TypeError}}");
    }
}
