//! How a generated post passes its arguments: positionally (most often,
//! and first, so shrinking prefers it), as an options dictionary, or as a
//! raw argument list whose second and third arguments exercise Web IDL
//! overload resolution and conversion.

use proptest::prelude::*;
use serde_yaml::{Mapping, Value};

/// A post's call form.
#[derive(Debug, Clone, PartialEq)]
pub enum GenForm {
    /// `postMessage(message, targetOrigin)`.
    Positional,
    /// `postMessage(message, {targetOrigin})`, or `{}` without it.
    Options {
        /// Whether the dictionary has the `targetOrigin` member.
        target_origin: bool,
    },
    /// `postMessage(...args)`.
    Args(ArgsShape),
}

/// The argument list of a [`GenForm::Args`] post.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgsShape {
    /// `[message, targetOrigin]`: the positional call, spelled raw.
    TargetOrigin,
    /// `[]`.
    Empty,
    /// `[message]`.
    MessageOnly,
    /// `[message, value]`: a value that is not the targetOrigin string.
    Second(Value),
    /// `[message, targetOrigin, value]`: a transfer argument.
    Transfer(Value),
}

/// Every family a call form reports (the positional form reports none,
/// so cases without call forms keep their families).
pub const FAMILIES: &[&str] = &[
    "options",
    "options-empty",
    "args-target-origin",
    "args-empty",
    "args-message-only",
    "args-second",
    "args-transfer",
];

impl GenForm {
    /// Its strategy family, `None` for the positional form.
    pub fn family(&self) -> Option<&'static str> {
        Some(match self {
            GenForm::Positional => return None,
            GenForm::Options {
                target_origin: true,
            } => "options",
            GenForm::Options {
                target_origin: false,
            } => "options-empty",
            GenForm::Args(ArgsShape::TargetOrigin) => "args-target-origin",
            GenForm::Args(ArgsShape::Empty) => "args-empty",
            GenForm::Args(ArgsShape::MessageOnly) => "args-message-only",
            GenForm::Args(ArgsShape::Second(_)) => "args-second",
            GenForm::Args(ArgsShape::Transfer(_)) => "args-transfer",
        })
    }

    /// Writes the post's message and targetOrigin in this form into the
    /// post's YAML map.
    pub fn render(&self, post: &mut Mapping, message: &Value, target_origin: &str) {
        let s = |x: &str| Value::String(x.to_owned());
        match self {
            GenForm::Positional => {
                post.insert(s("message"), message.clone());
                post.insert(s("target_origin"), s(target_origin));
            }
            GenForm::Options {
                target_origin: with,
            } => {
                post.insert(s("message"), message.clone());
                let mut options = Mapping::new();
                if *with {
                    options.insert(s("target_origin"), s(target_origin));
                }
                post.insert(s("options"), Value::Mapping(options));
            }
            GenForm::Args(shape) => {
                let args = match shape {
                    ArgsShape::TargetOrigin => vec![message.clone(), s(target_origin)],
                    ArgsShape::Empty => Vec::new(),
                    ArgsShape::MessageOnly => vec![message.clone()],
                    ArgsShape::Second(v) => vec![message.clone(), v.clone()],
                    ArgsShape::Transfer(v) => vec![message.clone(), s(target_origin), v.clone()],
                };
                post.insert(s("args"), Value::Sequence(args));
            }
        }
    }
}

fn tagged(tag: &str, inner: Value) -> Value {
    let mut m = Mapping::new();
    m.insert(Value::String(tag.into()), inner);
    Value::Mapping(m)
}

fn getter_object(member: &str, error: &str) -> Value {
    let mut m = Mapping::new();
    m.insert(
        Value::String(member.into()),
        tagged("$throwing_getter", Value::String(error.into())),
    );
    Value::Mapping(m)
}

/// Second arguments that are not the targetOrigin string: each picks an
/// overload or fails a conversion in its own way.
fn second_argument() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(tagged("$undefined", Value::Null)),
        Just(Value::Mapping(Mapping::new())),
        Just(Value::Sequence(Vec::new())),
        (-1000i64..1000).prop_map(|n| Value::Number(n.into())),
        any::<bool>().prop_map(Value::Bool),
        Just(tagged("$symbol", Value::String("s".into()))),
        Just(tagged("$function", Value::String("f".into()))),
        Just(getter_object("targetOrigin", "RangeError")),
        Just(getter_object("transfer", "EvalError")),
    ]
}

/// Transfer arguments: the default, an empty list, and values that are no
/// iterable of objects.
fn transfer_argument() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Sequence(Vec::new())),
        Just(tagged("$undefined", Value::Null)),
        Just(Value::Null),
        (-10i64..10).prop_map(|n| Value::Number(n.into())),
        Just(Value::String("ab".into())),
        Just(Value::Mapping(Mapping::new())),
        Just(Value::Sequence(vec![Value::Number(1.into())])),
        Just(Value::Sequence(vec![Value::Mapping(Mapping::new())])),
    ]
}

/// A call form: positional most of the time.
pub fn call_form() -> impl Strategy<Value = GenForm> {
    prop_oneof![
        24 => Just(GenForm::Positional),
        2 => any::<bool>().prop_map(|target_origin| GenForm::Options { target_origin }),
        1 => Just(GenForm::Args(ArgsShape::TargetOrigin)),
        1 => prop_oneof![Just(ArgsShape::Empty), Just(ArgsShape::MessageOnly)].prop_map(GenForm::Args),
        2 => second_argument().prop_map(|v| GenForm::Args(ArgsShape::Second(v))),
        2 => transfer_argument().prop_map(|v| GenForm::Args(ArgsShape::Transfer(v))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(form: GenForm) -> String {
        let mut post = Mapping::new();
        form.render(&mut post, &Value::String("m".into()), "*");
        serde_json::to_string(&post).unwrap()
    }

    #[test]
    fn each_form_renders_as_the_case_format_spells_it() {
        assert_eq!(
            rendered(GenForm::Positional),
            r#"{"message":"m","target_origin":"*"}"#
        );
        assert_eq!(
            rendered(GenForm::Options {
                target_origin: true
            }),
            r#"{"message":"m","options":{"target_origin":"*"}}"#
        );
        assert_eq!(
            rendered(GenForm::Options {
                target_origin: false
            }),
            r#"{"message":"m","options":{}}"#
        );
        assert_eq!(rendered(GenForm::Args(ArgsShape::Empty)), r#"{"args":[]}"#);
        assert_eq!(
            rendered(GenForm::Args(ArgsShape::Transfer(Value::Null))),
            r#"{"args":["m","*",null]}"#
        );
        assert_eq!(
            rendered(GenForm::Args(ArgsShape::Second(getter_object(
                "transfer",
                "EvalError"
            )))),
            r#"{"args":["m",{"transfer":{"$throwing_getter":"EvalError"}}]}"#
        );
    }

    #[test]
    fn families_are_listed_and_positional_has_none() {
        assert_eq!(GenForm::Positional.family(), None);
        for form in [
            GenForm::Options {
                target_origin: true,
            },
            GenForm::Options {
                target_origin: false,
            },
            GenForm::Args(ArgsShape::TargetOrigin),
            GenForm::Args(ArgsShape::Empty),
            GenForm::Args(ArgsShape::MessageOnly),
            GenForm::Args(ArgsShape::Second(Value::Null)),
            GenForm::Args(ArgsShape::Transfer(Value::Null)),
        ] {
            assert!(FAMILIES.contains(&form.family().unwrap()), "{form:?}");
        }
    }
}
