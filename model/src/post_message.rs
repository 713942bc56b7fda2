//! The window post message steps.
//!
//! <https://html.spec.whatwg.org/multipage/web-messaging.html#window-post-message-steps>
//!
//! ## Whose settings decide what: a cross-window call
//!
//! A script may call one window's `postMessage` function with another
//! window as `this`: `other.postMessage.call(target, message, ...)` (a
//! case's `function_of: other`). Three realms take part, and the standards
//! give each its part:
//!
//! - **The function's realm decides the exceptions' realm.** Reading
//!   `other.postMessage` gives `other`'s own function only when the caller
//!   may see it: WindowProxy's [[GetOwnProperty]] "If
//!   IsPlatformObjectSameOrigin(W) is true, then return !
//!   OrdinaryGetOwnProperty(W, P)", and IsPlatformObjectSameOrigin(O) is
//!   "true if the current settings object's origin is same origin-domain
//!   with O's relevant settings object's origin" (the current settings
//!   object is the caller's while its script reads the property). Web IDL
//!   made that function with CreateBuiltinFunction(steps, length, id, « »,
//!   realm) for `other`'s realm ("create an operation function"), so while
//!   it runs the current realm is `other`'s. Every exception the steps
//!   create is made there: "To create a simple exception of type T: [...]
//!   Let constructor be current realm.[[Intrinsics]].[[%T%]]"; "To create
//!   a DOMException given a string name: [...] Let ex be a new
//!   DOMException created in the current realm"; and ECMA-262's own
//!   "throw a TypeError exception" (ToString of a Symbol) is the current
//!   realm's too. Web IDL's note: "The above algorithms restrict objects
//!   representing exceptions propagating out of a function object to be
//!   ones that are associated with the realm of that function object (i.e.,
//!   the current realm at the time the function executes)."
//!   <https://webidl.spec.whatwg.org/#js-creating-throwing-exceptions>
//!   An exception a getter throws propagates as it is ("Rethrow any
//!   exceptions"): it is the getter's, made in the realm of the script that
//!   built the argument (pmconf's agent builds it in the caller).
//! - **`this` decides the target.** The operation's steps run "with
//!   idlObject as this", the reference to `target` (a security check first,
//!   which postMessage passes: it is a cross-origin property with neither
//!   [[NeedsGet]] nor [[NeedsSet]]); "The postMessage(message, options)
//!   method steps are to run the window post message steps providing this,
//!   message, and options": targetWindow is `target`.
//! - **The incumbent decides `event.origin`, `event.source` and `"/"`.**
//!   The steps' "Let incumbentSettings be the incumbent settings object":
//!   the settings object of the topmost script-having execution context,
//!   the caller's script (a built-in function has no script). Step 4: "If
//!   targetOrigin is a single U+002F SOLIDUS character (/), then set
//!   targetOrigin to incumbentSettings's origin"; step 8.2 "Let origin be
//!   the serialization of incumbentSettings's origin"; step 8.3 "Let source
//!   be the WindowProxy object corresponding to incumbentSettings's global
//!   object". None of them is the function's window's.
//!
//! So in the model a cross-window call is a call by `from` to `to` like any
//! other ([`PostMessageCall::incumbent_origin`] is the caller's); only the
//! realm of what it throws ([`PostMessageError::realm`]) names `function_of`.

use crate::call_args::ConversionError;
use crate::message::{
    structured_serialize_with_transfer, transfer_idl_type_error, MessageValue, RealmBuffers,
    SerializeError, Transferable,
};
use crate::origin::{same_origin, OpaqueOriginAllocator, Origin};
use crate::target_origin::{resolve_target_origin, SyntaxError, TargetOrigin};

/// A `postMessage` call as a script makes it.
#[derive(Debug, Clone)]
pub struct PostMessageCall<'a> {
    /// The incumbent settings object's origin: the calling document's.
    pub incumbent_origin: &'a Origin,
    /// The message.
    pub message: &'a MessageValue,
    /// `targetOrigin`; `None` is the one-argument form, whose
    /// `WindowPostMessageOptions` default is `"/"`.
    pub target_origin: Option<&'a str>,
    /// The transfer list.
    pub transfer: &'a [Transferable],
}

/// An exception `postMessage` throws synchronously.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostMessageError {
    /// Web IDL conversion of the transfer list failed.
    TypeError(String),
    /// targetOrigin did not parse.
    SyntaxError,
    /// StructuredSerializeWithTransfer failed.
    DataCloneError(String),
    /// A getter threw, either one argument conversion called or one of
    /// the message's own properties while it was serialized; its exception
    /// propagates as is.
    Thrown {
        /// The exception's `name`.
        name: String,
        /// What threw it.
        reason: String,
    },
}

impl From<SerializeError> for PostMessageError {
    fn from(e: SerializeError) -> Self {
        match e {
            SerializeError::DataClone(why) => PostMessageError::DataCloneError(why),
            SerializeError::TypeError(why) => PostMessageError::TypeError(why),
            SerializeError::Thrown(name) => PostMessageError::Thrown {
                reason: format!("a getter threw {name} while the message was serialized"),
                name,
            },
        }
    }
}

impl From<ConversionError> for PostMessageError {
    fn from(e: ConversionError) -> Self {
        match e {
            ConversionError::TypeError(why) => PostMessageError::TypeError(why),
            ConversionError::Thrown { name, member } => PostMessageError::Thrown {
                name,
                reason: format!("the getter of `{member}` threw"),
            },
        }
    }
}

impl PostMessageError {
    /// The exception's `name`, as a page sees it.
    pub fn name(&self) -> &str {
        match self {
            PostMessageError::TypeError(_) => "TypeError",
            PostMessageError::SyntaxError => "SyntaxError",
            PostMessageError::DataCloneError(_) => "DataCloneError",
            PostMessageError::Thrown { name, .. } => name,
        }
    }
}

/// The realm an exception `postMessage` threw was created in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionRealm {
    /// The current realm: the realm of the `postMessage` function object
    /// called (Web IDL, "Creating and throwing exceptions").
    Function,
    /// The realm of the getter that threw it, whose exception propagates
    /// as it is: pmconf's agent builds every argument in the caller's
    /// script, so the caller's realm.
    Getter,
}

impl PostMessageError {
    /// Where the exception was created (see the module documentation).
    pub fn realm(&self) -> ExceptionRealm {
        match self {
            // Web IDL conversion ("throw a TypeError"), step 5 ("throw a
            // "SyntaxError" DOMException"), StructuredSerializeInternal
            // ("throw a "DataCloneError" DOMException") and ToString of a
            // Symbol: all created in the current realm.
            PostMessageError::TypeError(_)
            | PostMessageError::SyntaxError
            | PostMessageError::DataCloneError(_) => ExceptionRealm::Function,
            // "Rethrow any exceptions": the getter's own.
            PostMessageError::Thrown { .. } => ExceptionRealm::Getter,
        }
    }
}

/// The task step 8 queues on the target's posted message task source.
#[derive(Debug, Clone)]
pub struct PostedMessageTask {
    /// The resolved targetOrigin, checked when the task runs.
    pub target_origin: TargetOrigin,
    /// Step 8.2's `origin`: the serialization of the incumbent origin. The
    /// standard computes it in the task; the incumbent settings object's
    /// origin cannot change in between (`document.domain` changes only the
    /// origin's domain, which serialization ignores), so computing it here
    /// is the same.
    pub origin: String,
    /// What the receiver will deserialize.
    pub message: MessageValue,
}

/// Steps 1 to 8 of the window post message steps: what happens inside the
/// `postMessage` call.
///
/// <https://html.spec.whatwg.org/multipage/web-messaging.html#window-post-message-steps>
pub fn window_post_message_steps(
    call: &PostMessageCall<'_>,
    realm: &mut RealmBuffers,
    alloc: &mut OpaqueOriginAllocator,
) -> Result<PostedMessageTask, PostMessageError> {
    // Before the steps: Web IDL converts the arguments. `transfer` is a
    // sequence<object>, so a primitive in it is a TypeError, thrown before
    // targetOrigin is even looked at.
    if transfer_idl_type_error(call.transfer) {
        return Err(PostMessageError::TypeError(
            "transfer list holds a value that is not an object".into(),
        ));
    }
    // 3. Let targetOrigin be options["targetOrigin"].
    let target_origin = call.target_origin.unwrap_or("/");
    // 4-5. "/" is the incumbent origin; otherwise, unless "*", parse it, and
    //      on failure throw a "SyntaxError" DOMException.
    let target_origin = resolve_target_origin(target_origin, call.incumbent_origin, alloc)
        .map_err(|SyntaxError| PostMessageError::SyntaxError)?;
    // 6. Let transfer be options["transfer"].
    // 7. Let serializeWithTransferResult be
    //    StructuredSerializeWithTransfer(message, transfer). Rethrow any
    //    exceptions.
    //
    // Steps 4-5 come first, so a bad targetOrigin throws SyntaxError even
    // when the message cannot be cloned.
    structured_serialize_with_transfer(call.message, call.transfer, realm)
        .map_err(PostMessageError::from)?;
    // 8. Queue a global task on the posted message task source given
    //    targetWindow to run the following steps: (see
    //    `run_posted_message_task`).
    Ok(PostedMessageTask {
        target_origin,
        origin: call.incumbent_origin.ascii_serialization(),
        message: call.message.clone(),
    })
}

/// Why a posted message task fired no event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    /// Step 8.1: targetOrigin is not `*` and the target's document is not
    /// same origin with it.
    OriginMismatch {
        /// The resolved targetOrigin, serialized.
        target_origin: String,
        /// The target document's origin, serialized.
        document_origin: String,
    },
}

/// Step 8.1, run when the task runs against the target window's *current*
/// document: either the message event fires (`Ok`) or the task returns.
pub fn run_posted_message_task(
    task: &PostedMessageTask,
    target_document_origin: &Origin,
) -> Result<(), Dropped> {
    // 8.1. If the targetOrigin argument is not a single literal U+002A
    //      ASTERISK character (*) and targetWindow's associated Document's
    //      origin is not same origin with targetOrigin, then return.
    match &task.target_origin {
        TargetOrigin::Wildcard => Ok(()),
        TargetOrigin::Origin(o) if same_origin(o, target_document_origin) => Ok(()),
        TargetOrigin::Origin(o) => Err(Dropped::OriginMismatch {
            target_origin: o.ascii_serialization(),
            document_origin: target_document_origin.ascii_serialization(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(
        target_origin: Option<&str>,
        message: &str,
        transfer: &[Transferable],
    ) -> Result<PostedMessageTask, PostMessageError> {
        post_with(
            target_origin,
            message,
            transfer,
            &mut OpaqueOriginAllocator::new(),
        )
    }

    fn post_with(
        target_origin: Option<&str>,
        message: &str,
        transfer: &[Transferable],
        alloc: &mut OpaqueOriginAllocator,
    ) -> Result<PostedMessageTask, PostMessageError> {
        let caller = Origin::tuple("http", "a.test", Some(8000));
        let message = MessageValue::from_yaml(&serde_yaml::from_str(message).unwrap()).unwrap();
        let mut realm = RealmBuffers::default();
        window_post_message_steps(
            &PostMessageCall {
                incumbent_origin: &caller,
                message: &message,
                target_origin,
                transfer,
            },
            &mut realm,
            alloc,
        )
    }

    #[test]
    fn syntax_error_comes_before_data_clone_error() {
        assert_eq!(
            post(Some("http:"), "{$function: f}", &[])
                .unwrap_err()
                .name(),
            "SyntaxError"
        );
        assert_eq!(
            post(Some("*"), "{$function: f}", &[]).unwrap_err().name(),
            "DataCloneError"
        );
    }

    #[test]
    fn a_getters_exception_comes_after_syntax_error_and_as_is() {
        // Steps 4-5 (targetOrigin) run before step 7 (serialize), whose
        // exceptions are rethrown as they are.
        let msg = "{a: {$throwing_getter: RangeError}, b: {$function: f}}";
        assert_eq!(
            post(Some("http:"), msg, &[]).unwrap_err().name(),
            "SyntaxError"
        );
        assert_eq!(post(Some("*"), msg, &[]).unwrap_err().name(), "RangeError");
    }

    #[test]
    fn type_error_comes_before_syntax_error() {
        let bad = [Transferable::Value(MessageValue::Number(1.0))];
        assert_eq!(
            post(Some("http:"), "1", &bad).unwrap_err().name(),
            "TypeError"
        );
    }

    #[test]
    fn one_argument_form_targets_own_origin() {
        let task = post(None, "1", &[]).unwrap();
        assert!(
            run_posted_message_task(&task, &Origin::tuple("http", "a.test", Some(8000))).is_ok()
        );
        assert!(
            run_posted_message_task(&task, &Origin::tuple("http", "b.test", Some(8000))).is_err()
        );
        assert_eq!(task.origin, "http://a.test:8000");
    }

    #[test]
    fn the_check_uses_the_document_origin_given_at_run_time() {
        let task = post(Some("https://b.test/path?q"), "1", &[]).unwrap();
        assert!(run_posted_message_task(&task, &Origin::tuple("https", "b.test", None)).is_ok());
        assert_eq!(
            run_posted_message_task(&task, &Origin::tuple("https", "b.test", Some(444))),
            Err(Dropped::OriginMismatch {
                target_origin: "https://b.test".into(),
                document_origin: "https://b.test:444".into()
            })
        );
        let mut alloc = OpaqueOriginAllocator::new();
        let wildcard = post(Some("*"), "1", &[]).unwrap();
        assert!(run_posted_message_task(&wildcard, &alloc.new_opaque_origin()).is_ok());
    }

    #[test]
    fn opaque_target_origin_never_matches() {
        // One allocator, as in a model run: the target document's opaque
        // origin and the targetOrigin's are different objects.
        let mut alloc = OpaqueOriginAllocator::new();
        let document = alloc.new_opaque_origin();
        let task = post_with(Some("data:,x"), "1", &[], &mut alloc).unwrap();
        assert!(run_posted_message_task(&task, &document).is_err());
    }
}
