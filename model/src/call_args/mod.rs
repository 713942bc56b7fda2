//! `postMessage` called with a raw argument list (a post's `args`): Web IDL
//! overload resolution between Window's two `postMessage` overloads and the
//! conversion of each argument to its IDL type, before the window post
//! message steps run.
//!
//! The overloads, from the HTML Standard's `Window` interface
//! (<https://html.spec.whatwg.org/multipage/nav-history-apis.html#window>):
//!
//! ```webidl
//! undefined postMessage(any message, USVString targetOrigin, optional sequence<object> transfer = []);
//! undefined postMessage(any message, optional WindowPostMessageOptions options = {});
//!
//! dictionary StructuredSerializeOptions { sequence<object> transfer = []; };
//! dictionary WindowPostMessageOptions : StructuredSerializeOptions { USVString targetOrigin = "/"; };
//! ```
//!
//! Overload resolution: <https://webidl.spec.whatwg.org/#es-overloads>
//! (the overload resolution algorithm,
//! <https://webidl.spec.whatwg.org/#dfn-overload-resolution-algorithm>).
//!
//! An argument is a value in the message syntax, or an ordinary object some
//! of whose members are getters that throw (`{$throwing_getter: RangeError}`
//! as a member's value), so that the order in which conversions read
//! members is observable through which exception comes out.

mod arg_value;
mod to_string;

pub use arg_value::{ArgValue, Member, GETTER_ERRORS};

use crate::message::{MessageValue, Transferable};
use to_string::to_string;

/// ECMAScript ToString of a message value (for an Error's `message`,
/// StructuredSerializeInternal step 17.5), as UTF-16 code units; `Err`
/// when it throws (a Symbol) or is not modelled.
pub(crate) fn to_string_of(v: &MessageValue) -> Result<Vec<u16>, ConversionError> {
    to_string(&ArgValue::Value(v.clone()))
}

/// An exception overload resolution or a conversion throws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversionError {
    /// A `TypeError` Web IDL or ECMAScript throws, and why.
    TypeError(String),
    /// What a getter threw (its error constructor's name), propagated.
    Thrown {
        /// The error's `name`.
        name: String,
        /// Which member's getter threw.
        member: String,
    },
}

/// Which overload overload resolution selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overload {
    /// `postMessage(message, targetOrigin, transfer)`.
    TargetOrigin,
    /// `postMessage(message, options)`.
    Options,
}

/// The IDL values the window post message steps receive: `options` as the
/// steps see it (the `targetOrigin` overload's steps build it from the two
/// arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct IdlArguments {
    /// The overload selected.
    pub overload: Overload,
    /// `message` (`any`: no conversion).
    pub message: MessageValue,
    /// `options["targetOrigin"]`.
    pub target_origin: String,
    /// `options["transfer"]`.
    pub transfer: Vec<Transferable>,
}

/// The overload resolution algorithm for `postMessage`, then the
/// conversions of the selected overload's arguments, in argument order.
///
/// <https://webidl.spec.whatwg.org/#dfn-overload-resolution-algorithm>
pub fn resolve_post_message(args: &[ArgValue]) -> Result<IdlArguments, ConversionError> {
    // The effective overload set (https://webidl.spec.whatwg.org/#compute-the-effective-overload-set)
    // has the entries <targetOrigin overload, (any, USVString, sequence<object>)>,
    // <targetOrigin overload, (any, USVString)>, <options overload, (any,
    // WindowPostMessageOptions)> and <options overload, (any)>.
    // 1. Let maxarg be the length of the longest type list of the entries in S.
    const MAXARG: usize = 3;
    // 2. Let n be the size of args.
    let n = args.len();
    // 3. Initialize argcount to be min(maxarg, n).
    let argcount = MAXARG.min(n);
    // 4. Remove from S all entries whose type list is not of length argcount.
    // 5. If S is empty, then throw a TypeError.
    //    (`message` is required in both overloads: no entry has length 0.)
    if argcount == 0 {
        return Err(ConversionError::TypeError(
            "overload resolution step 5: no postMessage overload takes 0 arguments".into(),
        ));
    }
    // Converting `any` (step 11 for argument 0, before the distinguishing
    // argument): the value as is.
    let message = args[0].message_value();
    let overload = match argcount {
        // One entry left, (any) of the options overload.
        1 => Overload::Options,
        // Two entries: (any, USVString) and (any, WindowPostMessageOptions);
        // 8. the distinguishing argument index d is 1.
        2 => select_at_distinguishing_index(&args[1]),
        // One entry left, (any, USVString, sequence<object>): there is no
        // distinguishing index and every argument is converted in order.
        _ => Overload::TargetOrigin,
    };
    match overload {
        Overload::TargetOrigin => {
            // 14. While i < argcount: convert V to the type at index i.
            //     targetOrigin: USVString.
            let target_origin = to_usv_string(&args[1])?;
            //     transfer: optional with default `[]`; "If optionality is
            //     'optional' and V is undefined, then ... append the
            //     argument's default value".
            let transfer = match args.get(2) {
                None | Some(ArgValue::Value(MessageValue::Undefined)) => Vec::new(),
                Some(v) => to_sequence_of_object(v, "transfer argument")?,
            };
            // The targetOrigin overload's method steps: "Let options be
            // «[ "targetOrigin" → targetOrigin, "transfer" → transfer ]»."
            Ok(IdlArguments {
                overload,
                message,
                target_origin,
                transfer,
            })
        }
        Overload::Options => {
            // 14/15. `options` is optional with default `{}`: an undefined or
            //        absent argument takes the default, which converts as an
            //        empty dictionary.
            let options = match args.get(1) {
                None => ArgValue::Value(MessageValue::Undefined),
                Some(v) => v.clone(),
            };
            let (transfer, target_origin) = to_window_post_message_options(&options)?;
            Ok(IdlArguments {
                overload,
                message,
                target_origin,
                transfer,
            })
        }
    }
}

/// Step 12 of the overload resolution algorithm at d = 1, where the entries
/// have `USVString` and `WindowPostMessageOptions` (optional) at index 1.
fn select_at_distinguishing_index(v: &ArgValue) -> Overload {
    // 12.1. Let V be args[i].
    match v {
        // 12.2. If V is undefined, and there is an entry in S whose list of
        //       optionality values has "optional" at index i, then remove
        //       from S all other entries.
        ArgValue::Value(MessageValue::Undefined) => Overload::Options,
        // 12.3. Otherwise: if V is null or undefined, and there is an entry
        //       in S that has one of the following types at position i of
        //       its type list, ... a dictionary type ..., then remove from S
        //       all other entries.
        ArgValue::Value(MessageValue::Null) => Overload::Options,
        // 12.4-12.10 need a platform object, buffer source, callback
        // function or sequence type at index 1; neither entry has one.
        // 12.11. Otherwise: if V is an Object, and there is an entry in S
        //        that has one of the following types at position i of its
        //        type list, ... a dictionary type ..., then remove from S
        //        all other entries. (Functions, arrays and ArrayBuffers are
        //        Objects too.)
        ArgValue::Object(_)
        | ArgValue::Value(
            MessageValue::Array(_)
            | MessageValue::Object(_)
            | MessageValue::Buffer { .. }
            | MessageValue::Function(_)
            | MessageValue::Port(_),
        ) => Overload::Options,
        // 12.12-12.14 need a boolean, numeric or bigint type at index 1.
        // 12.15. Otherwise: if there is an entry in S that has one of the
        //        following types at position i of its type list, a string
        //        type ..., then remove from S all other entries.
        ArgValue::Value(
            MessageValue::Bool(_)
            | MessageValue::Number(_)
            | MessageValue::String(_)
            | MessageValue::Symbol(_),
        ) => Overload::TargetOrigin,
        // NOTE: refused after the message by `ArgValue::from_yaml`, so never
        // reached; all but a BigInt are Objects (12.11), a BigInt selects
        // the string overload (12.15).
        ArgValue::Value(MessageValue::BigInt(_)) => Overload::TargetOrigin,
        ArgValue::Value(m) => {
            debug_assert!(arg_value::unconverted_kind(m).is_some());
            Overload::Options
        }
    }
}

/// Converting a JavaScript value to the dictionary type
/// `WindowPostMessageOptions`; returns (`transfer`, `targetOrigin`) in the
/// order they are converted.
///
/// <https://webidl.spec.whatwg.org/#js-dictionary>
fn to_window_post_message_options(
    v: &ArgValue,
) -> Result<(Vec<Transferable>, String), ConversionError> {
    // 1. If jsDict is not an Object and jsDict is neither undefined nor
    //    null, then throw a TypeError.
    if !is_object(v)
        && !matches!(
            v,
            ArgValue::Value(MessageValue::Undefined | MessageValue::Null)
        )
    {
        return Err(ConversionError::TypeError(
            "WindowPostMessageOptions: not an object".into(),
        ));
    }
    // 3. Let dictionaries be a list consisting of D and all of D's inherited
    //    dictionaries, in order from least to most derived.
    // 4. For each dictionary dictionary in dictionaries, in order: for each
    //    dictionary member member declared on dictionary, in lexicographical
    //    order: ... let jsMemberValue be ? Get(jsDict, key) (undefined when
    //    jsDict is undefined or null); if jsMemberValue is not undefined,
    //    convert it to the member's IDL type; otherwise, if member has a
    //    default value, use it.
    //
    // So StructuredSerializeOptions' `transfer` is read and converted
    // before WindowPostMessageOptions' own `targetOrigin`.
    let transfer = match get(v, "transfer")? {
        None | Some(ArgValue::Value(MessageValue::Undefined)) => Vec::new(),
        Some(value) => to_sequence_of_object(&value, "options.transfer")?,
    };
    let target_origin = match get(v, "targetOrigin")? {
        None | Some(ArgValue::Value(MessageValue::Undefined)) => "/".to_owned(),
        Some(value) => to_usv_string(&value)?,
    };
    Ok((transfer, target_origin))
}

/// Whether Type(v) is Object.
fn is_object(v: &ArgValue) -> bool {
    match v {
        ArgValue::Object(_) => true,
        ArgValue::Value(m) => match m {
            MessageValue::Array(_)
            | MessageValue::Object(_)
            | MessageValue::Buffer { .. }
            | MessageValue::Function(_) => true,
            MessageValue::Undefined
            | MessageValue::Null
            | MessageValue::Bool(_)
            | MessageValue::Number(_)
            | MessageValue::String(_)
            | MessageValue::Symbol(_) => false,
            // NOTE: refused after the message by `ArgValue::from_yaml`.
            MessageValue::BigInt(_) | MessageValue::Hole | MessageValue::ThrowingGetter(_) => false,
            MessageValue::Boxed(_)
            | MessageValue::Date(_)
            | MessageValue::RegExp { .. }
            | MessageValue::Map(_)
            | MessageValue::Set(_)
            | MessageValue::Error { .. }
            | MessageValue::View { .. }
            | MessageValue::ArrayWithProps { .. }
            | MessageValue::Unlisted { .. }
            | MessageValue::Identified { .. }
            | MessageValue::Ref(_)
            | MessageValue::Node(_)
            | MessageValue::Port(_)
            | MessageValue::SharedBuffer(_)
            | MessageValue::DomException { .. }
            | MessageValue::ImageData { .. }
            | MessageValue::Blob { .. } => true,
        },
    }
}

/// `? Get(O, key)` for the keys this module reads (`transfer`,
/// `targetOrigin`, `toString`, `valueOf`): an own property of an ordinary
/// object, else `None` (the key is on no prototype of these objects, except
/// `toString`/`valueOf`, which callers handle). `null`/`undefined` read as
/// `None`, as the dictionary conversion says.
fn get(o: &ArgValue, key: &str) -> Result<Option<ArgValue>, ConversionError> {
    match o {
        ArgValue::Object(members) => match members.iter().find(|(k, _)| k == key) {
            Some((_, Member::Data(v))) => Ok(Some(v.clone())),
            Some((_, Member::ThrowingGetter(name))) => Err(ConversionError::Thrown {
                name: name.clone(),
                member: key.to_owned(),
            }),
            None => Ok(None),
        },
        ArgValue::Value(MessageValue::Object(entries)) => Ok(entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| ArgValue::Value(v.clone()))),
        ArgValue::Value(_) => Ok(None),
    }
}

/// Converting a JavaScript value to `sequence<object>`.
///
/// <https://webidl.spec.whatwg.org/#js-sequence>
fn to_sequence_of_object(v: &ArgValue, what: &str) -> Result<Vec<Transferable>, ConversionError> {
    // 1. If V is not an Object, throw a TypeError.
    if !is_object(v) {
        return Err(ConversionError::TypeError(format!(
            "sequence<object> step 1: the {what} is not an object"
        )));
    }
    // 2. Let method be ? GetMethod(V, %Symbol.iterator%).
    // 3. If method is undefined, throw a TypeError.
    //    Of the objects a case can write, only arrays are iterable.
    let ArgValue::Value(MessageValue::Array(items)) = v else {
        return Err(ConversionError::TypeError(format!(
            "sequence<object> step 3: the {what} is not iterable"
        )));
    };
    // 4. Return the result of creating a sequence from V and method: each
    //    value the iterator yields is converted to `object`, which throws a
    //    TypeError for anything but an Object.
    items
        .iter()
        .map(|item| {
            if is_object(&ArgValue::Value(item.clone())) {
                Ok(Transferable::Value(item.clone()))
            } else {
                Err(ConversionError::TypeError(format!(
                    "object conversion: an entry of the {what} is not an object"
                )))
            }
        })
        .collect()
}

/// Converting a JavaScript value to `USVString`: ToString, then lone
/// surrogates become U+FFFD.
///
/// <https://webidl.spec.whatwg.org/#js-USVString>
fn to_usv_string(v: &ArgValue) -> Result<String, ConversionError> {
    // 1. Let string be the result of converting V to a DOMString
    //    (? ToString(V)).
    let units = to_string(v)?;
    // 2. Return an IDL USVString value that is the result of converting
    //    string to a sequence of scalar values.
    Ok(String::from_utf16_lossy(&units))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(s: &str) -> ArgValue {
        ArgValue::from_yaml(&serde_yaml::from_str(s).unwrap()).unwrap()
    }

    fn call(args: &[&str]) -> Result<IdlArguments, ConversionError> {
        resolve_post_message(&args.iter().map(|a| arg(a)).collect::<Vec<_>>())
    }

    fn resolved(args: &[&str]) -> (Overload, String, usize) {
        let r = call(args).unwrap();
        (r.overload, r.target_origin, r.transfer.len())
    }

    fn type_error(args: &[&str]) -> bool {
        matches!(call(args), Err(ConversionError::TypeError(_)))
    }

    fn thrown(args: &[&str]) -> String {
        match call(args) {
            Err(ConversionError::Thrown { name, .. }) => name,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_arguments_is_a_type_error() {
        // Steps 4-5: no entry of length 0.
        assert!(type_error(&[]));
    }

    #[test]
    fn one_argument_is_the_options_overload_with_its_defaults() {
        assert_eq!(resolved(&["1"]), (Overload::Options, "/".into(), 0));
    }

    #[test]
    fn undefined_null_and_objects_at_index_1_select_the_dictionary() {
        // 12.2 (undefined, optional), 12.3 (null), 12.11 (objects).
        for second in [
            "{$undefined: null}",
            "null",
            "{}",
            "[]",
            "{$function: f}",
            "{$buffer: {bytes: []}}",
        ] {
            assert_eq!(
                resolved(&["1", second]),
                (Overload::Options, "/".into(), 0),
                "{second}"
            );
        }
        assert_eq!(
            resolved(&["1", "{targetOrigin: '*'}"]),
            (Overload::Options, "*".into(), 0)
        );
    }

    #[test]
    fn primitives_at_index_1_select_the_string_overload_and_convert() {
        // 12.15: the string type; then ToString.
        assert_eq!(
            resolved(&["1", "'*'"]),
            (Overload::TargetOrigin, "*".into(), 0)
        );
        assert_eq!(resolved(&["1", "123"]).1, "123");
        assert_eq!(resolved(&["1", "true"]).1, "true");
        assert_eq!(resolved(&["1", "1.5"]).1, "1.5");
        assert_eq!(resolved(&["1", "{$number: '-0'}"]).1, "0");
        // ToString(Symbol) throws.
        assert!(type_error(&["1", "{$symbol: s}"]));
        // USVString: a lone surrogate becomes U+FFFD.
        assert_eq!(resolved(&["1", "{$utf16: [104, 55296]}"]).1, "h\u{FFFD}");
    }

    #[test]
    fn three_arguments_always_take_the_target_origin_overload() {
        // Only (any, USVString, sequence<object>) has length 3, so undefined
        // and null at index 1 are converted to strings.
        assert_eq!(
            resolved(&["1", "{$undefined: null}", "[]"]),
            (Overload::TargetOrigin, "undefined".into(), 0)
        );
        assert_eq!(resolved(&["1", "null", "[]"]).1, "null");
        assert_eq!(resolved(&["1", "{}", "[]"]).1, "[object Object]");
        assert_eq!(resolved(&["1", "['*']", "[]"]).1, "*");
        assert_eq!(resolved(&["1", "[1, null, [2, 3]]", "[]"]).1, "1,,2,3");
        // Arguments past maxarg are ignored (argcount = min(maxarg, n)).
        assert_eq!(resolved(&["1", "'*'", "[]", "junk"]).1, "*");
        // An undefined transfer takes its default.
        assert_eq!(resolved(&["1", "'*'", "{$undefined: null}"]).2, 0);
    }

    #[test]
    fn transfer_must_be_an_iterable_of_objects() {
        assert!(type_error(&["1", "'*'", "null"]));
        assert!(type_error(&["1", "'*'", "5"]));
        assert!(type_error(&["1", "'*'", "'ab'"]));
        assert!(type_error(&["1", "'*'", "{}"]), "not iterable");
        assert!(
            type_error(&["1", "'*'", "{$buffer: {bytes: []}}"]),
            "not iterable"
        );
        assert!(
            type_error(&["1", "'*'", "[1]"]),
            "an entry is not an object"
        );
        assert_eq!(resolved(&["1", "'*'", "[{$buffer: {id: b}}, {}]"]).2, 2);
        // The same rules inside the dictionary.
        assert!(type_error(&["1", "{transfer: null}"]));
        assert!(type_error(&["1", "{transfer: {}}"]));
        assert_eq!(resolved(&["1", "{transfer: {$undefined: null}}"]).2, 0);
    }

    #[test]
    fn transfer_is_converted_before_target_origin() {
        // StructuredSerializeOptions (inherited) first, then
        // WindowPostMessageOptions' own member.
        assert_eq!(
            thrown(&[
                "1",
                "{targetOrigin: {$throwing_getter: RangeError}, transfer: {$throwing_getter: EvalError}}"
            ]),
            "EvalError"
        );
        assert!(type_error(&[
            "1",
            "{targetOrigin: {$throwing_getter: RangeError}, transfer: [1]}"
        ]));
        assert_eq!(
            thrown(&[
                "1",
                "{targetOrigin: {$throwing_getter: RangeError}, transfer: []}"
            ]),
            "RangeError"
        );
    }

    #[test]
    fn positional_arguments_convert_in_order() {
        // targetOrigin (index 1) before transfer (index 2).
        assert_eq!(
            thrown(&["1", "{toString: {$throwing_getter: URIError}}", "null"]),
            "URIError"
        );
        assert!(type_error(&["1", "'bad'", "null"]));
    }

    #[test]
    fn to_string_of_objects_follows_ordinary_to_primitive() {
        // An own callable toString (the agent's returns undefined).
        assert_eq!(
            resolved(&["1", "{targetOrigin: {toString: {$function: f}}}"]).1,
            "undefined"
        );
        // Neither toString nor valueOf callable: TypeError.
        assert!(type_error(&["1", "{targetOrigin: {toString: 1}}"]));
        // A non-callable toString, then a callable valueOf.
        assert_eq!(
            resolved(&[
                "1",
                "{targetOrigin: {toString: 1, valueOf: {$function: f}}}"
            ])
            .1,
            "undefined"
        );
        assert_eq!(
            resolved(&["1", "{targetOrigin: {$buffer: {bytes: []}}}"]).1,
            "[object ArrayBuffer]"
        );
    }
}
