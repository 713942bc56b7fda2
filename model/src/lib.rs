//! Reference model of `window.postMessage`.
//!
//! Encodes the HTML Standard's [window post message steps] and the URL
//! Standard's [origin] concepts, and answers, for a case, with the **set of
//! outcomes the standards allow**. The crate is pure: no I/O, no clocks, no
//! randomness and no global state, so answers never depend on order.
//!
//! One module per spec concept, as servo/rust-url does:
//! - [`origin`]: origins, their ASCII serialization and same-origin checks.
//! - [`domain`]: the URL Standard's domain to ASCII (UTS #46 CheckBidi).
//! - [`url_origin`]: the origin of a URL.
//! - [`target_origin`]: resolving a `targetOrigin` argument.
//! - [`message`]: message values and `StructuredSerializeWithTransfer`.
//! - [`isolation`]: cross-origin isolation (capability, agent clusters).
//! - [`message_port`]: message channels and ports (non-race cases).
//! - [`shared_memory`]: writes to a posted SharedArrayBuffer, and which
//!   of them its receiver sees.
//! - [`sandbox`]: the iframe `sandbox` attribute.
//! - [`document`]: the origin each window's document gets, and what its
//!   `document.domain` setter allows.
//! - [`mixed_content`]: potentially trustworthy URLs and origins, and
//!   which frames mixed content blocking keeps from loading.
//! - [`navigation`]: the documents a case can create, planned up front.
//! - [`agent`]: which documents share an event loop (agent clusters keyed
//!   by site, or by origin as whatwg/html#7617 proposes).
//! - [`event_loop`]: every order the event loops allow, explored.
//! - [`contested`]: outcomes an open issue of the standard leaves open.
//! - [`post_message`]: the window post message steps themselves.
//! - [`call_args`]: Web IDL overload resolution and conversion of a raw
//!   `postMessage(...)` argument list.
//! - [`case`]: the YAML case format, its parser and validation.
//! - [`outcome`]: what a page can observe, and sets of allowed outcomes.
//! - [`answer`]: runs a case through the model.
//! - [`violation`]: which rule an observed outcome breaks.
//!
//! [window post message steps]: https://html.spec.whatwg.org/multipage/web-messaging.html#window-post-message-steps
//! [origin]: https://html.spec.whatwg.org/multipage/browsers.html#origin
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod agent;
pub mod answer;
pub mod call_args;
pub mod case;
pub mod contested;
pub mod document;
pub mod domain;
pub mod event_loop;
pub mod hosts;
pub mod isolation;
pub mod message;
pub mod message_port;
pub mod mixed_content;
pub mod navigation;
pub mod origin;
pub mod outcome;
pub mod post_message;
pub mod sandbox;
pub mod shared_memory;
pub mod structured_clone;
pub mod target_origin;
pub mod url_origin;
pub mod violation;

pub use answer::{answer_case, Answer};
pub use case::{parse_case, Case, CaseError};
pub use origin::{OpaqueOriginAllocator, Origin};
pub use outcome::{Delivery, Outcome, PostOutcome};
