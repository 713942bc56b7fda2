//! The YAML case format, version 1.
//!
//! A case is one YAML file: a description, the windows to create (a map
//! from name to description, in order of creation) and the steps to take.
//! [`parse_case`] reads and validates it, reporting every problem it finds
//! with its line and column.

mod error;
mod raw;
mod reach;
mod schema;
pub mod source_map;
mod suggest;
mod topology;
mod validate;

pub use error::CaseError;
pub use reach::{reference_path, Hop};
pub use schema::fields_by_place;
pub use source_map::Location;
pub use topology::Topology;

use crate::call_args::ArgValue;
use crate::message::{MessageValue, Transferable};
use crate::sandbox::SandboxingFlags;
use url::Url;

/// A validated case.
#[derive(Debug, Clone)]
pub struct Case {
    /// What the case is about.
    pub description: String,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// Links to the spec or issues.
    pub references: Vec<String>,
    /// Windows in creation order (every window after its parent or opener).
    pub windows: Vec<Window>,
    /// The steps, in order, with the members of a `same_task` group
    /// flattened in place: a step's index is its position in this list.
    pub steps: Vec<Step>,
    /// For each step, the task it runs in: steps of one `same_task` group
    /// share a number, every other step has its own. Numbers grow with the
    /// step index.
    pub task_of_step: Vec<usize>,
}

/// Index of a window in [`Case::windows`].
pub type WindowIndex = usize;

/// A window of a case.
#[derive(Debug, Clone)]
pub struct Window {
    /// Its name in the case.
    pub name: String,
    /// What it loads.
    pub content: WindowContent,
    /// The `url` exactly as the case wrote it, before parsing (a browser
    /// under test is given this spelling, so that its own URL parser sees
    /// the Unicode host, the hex IPv4 address and so on).
    pub url_as_written: Option<String>,
    /// How it is related to the window that creates it.
    pub relation: Relation,
    /// The iframe's `sandbox` attribute, when present.
    pub sandbox_attribute: Option<String>,
    /// The flags its document is created with (the attribute combined with
    /// the parent's, or inherited from a sandboxed opener).
    pub sandbox_flags: SandboxingFlags,
    /// The `create` step that creates it, or `None` when it is created up
    /// front, before the first step (by its creator's first document, which
    /// waits for it to load).
    pub created_by_step: Option<usize>,
    /// `isolated: true`, on the top window only: every page of the case
    /// is served with COEP `require-corp` (and CORP `cross-origin`), the
    /// top one also with COOP `same-origin`, so its browsing context group
    /// is cross-origin isolated ([`crate::isolation`]).
    pub isolated: bool,
}

/// What a window loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowContent {
    /// A URL: `http:`, `https:`, `data:` or `about:blank`.
    Url(Url),
    /// An iframe `srcdoc`.
    Srcdoc(String),
}

/// A window's place in the window tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The one window with neither parent nor opener.
    Top,
    /// An iframe in `parent`'s document.
    Iframe {
        /// The embedding window.
        parent: WindowIndex,
    },
    /// A popup `opener` opens with `window.open`.
    Popup {
        /// The opening window.
        opener: WindowIndex,
    },
}

impl Relation {
    /// The window that creates this one.
    pub fn creator(&self) -> Option<WindowIndex> {
        match *self {
            Relation::Top => None,
            Relation::Iframe { parent } => Some(parent),
            Relation::Popup { opener } => Some(opener),
        }
    }
}

/// A step of a case: one thing a script does (or, for
/// [`Step::WaitLoaded`], something the harness waits for).
#[derive(Debug, Clone)]
pub enum Step {
    /// `from` calls `to.postMessage(...)`.
    Post(Post),
    /// A window is navigated to a URL.
    Navigate(Navigate),
    /// The window's own script calls `location.reload()`.
    Reload {
        /// The window reloaded.
        window: WindowIndex,
    },
    /// The iframe's parent removes the `<iframe>` element.
    Remove {
        /// The iframe's window.
        window: WindowIndex,
    },
    /// The opener calls `close()` on the popup's handle.
    Close {
        /// The popup.
        window: WindowIndex,
    },
    /// The window's own script calls `history.pushState(null, "", "?pushed")`.
    PushState {
        /// The window.
        window: WindowIndex,
    },
    /// The window's own script sets `location.hash`.
    Fragment {
        /// The window.
        window: WindowIndex,
        /// The new fragment, without `#`.
        fragment: String,
    },
    /// The window's own script sets `document.domain`.
    SetDomain {
        /// The window.
        window: WindowIndex,
        /// The value assigned.
        domain: String,
    },
    /// The window's parent (iframe) or opener (popup) creates it at this
    /// point rather than up front.
    Create {
        /// The window created.
        window: WindowIndex,
    },
    /// Nothing runs until the window's latest navigation has committed and
    /// its new document has run its first script.
    WaitLoaded {
        /// The window waited for.
        window: WindowIndex,
    },
    /// The window's script runs `new MessageChannel()` and names its two
    /// entangled ports (`port1`, `port2`).
    Channel {
        /// The window.
        window: WindowIndex,
        /// The case's names for `port1` and `port2`.
        ports: [String; 2],
        /// Whether the agent starts both ports at once (by setting
        /// `onmessage`); when not, each waits for a [`Step::PortCall`]
        /// with [`PortAction::Start`].
        start: bool,
    },
    /// The window holding a port calls `port.postMessage(...)` on it.
    PortPost(PortPost),
    /// The window's script writes bytes into a SharedArrayBuffer it
    /// posted earlier ([`crate::shared_memory`]).
    SabWrite(SabWrite),
    /// The window holding a port calls `port.start()` (by setting
    /// `onmessage`, which starts it) or `port.close()`.
    PortCall {
        /// The window whose script holds the port.
        from: WindowIndex,
        /// The port (its name).
        port: String,
        /// Which call.
        action: PortAction,
    },
}

/// A `sab_write` step: `new Uint8Array(sab).set(bytes, offset)` in
/// `window`, where `sab` is the SharedArrayBuffer the message of post step
/// `post` (the latest earlier post by `window` whose message names it with
/// `$id`) made in `window`'s realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SabWrite {
    /// The window whose script writes (the one that posted the buffer).
    pub window: WindowIndex,
    /// The buffer's `$id` in that post's message.
    pub sab: String,
    /// The post step whose message made the buffer.
    pub post: usize,
    /// The first byte written.
    pub offset: usize,
    /// The bytes written, from `offset` on.
    pub bytes: Vec<u8>,
}

/// A call on a MessagePort other than `postMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortAction {
    /// `port.onmessage = ...`: "The first time a MessagePort object's
    /// onmessage IDL attribute is set, the port's port message queue must
    /// be enabled, as if the start() method had been called."
    Start,
    /// `port.close()`: disentangle the port.
    Close,
}

/// A `port_post` step: `port.postMessage(message, transfer)` in `from`.
#[derive(Debug, Clone)]
pub struct PortPost {
    /// The window whose script holds the port and posts.
    pub from: WindowIndex,
    /// The port posted on (its name).
    pub port: String,
    /// The message.
    pub message: MessageValue,
    /// The transfer list (empty when not given).
    pub transfer: Vec<Transferable>,
    /// Whether the call is `postMessage(message, {transfer})` (the
    /// StructuredSerializeOptions overload) rather than
    /// `postMessage(message, transfer)`.
    pub options: bool,
}

/// How a [`Step::Navigate`] starts the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NavigateVia {
    /// `w.location.href = url` in the script of `by`.
    Location,
    /// The parent sets the `<iframe>` element's `src`.
    Src,
}

/// A navigation step.
#[derive(Debug, Clone)]
pub struct Navigate {
    /// The window navigated.
    pub window: WindowIndex,
    /// The window whose script starts the navigation.
    pub by: WindowIndex,
    /// How.
    pub via: NavigateVia,
    /// The URL.
    pub url: Url,
    /// The URL as the case wrote it (given to the browser as is).
    pub url_as_written: String,
}

impl Step {
    /// The window whose script takes this step (`None` for a wait).
    pub fn actor(&self, case: &Case) -> Option<WindowIndex> {
        match self {
            Step::Post(p) => Some(p.from),
            Step::Navigate(n) => Some(n.by),
            Step::Reload { window }
            | Step::PushState { window }
            | Step::Fragment { window, .. }
            | Step::SetDomain { window, .. }
            | Step::Channel { window, .. } => Some(*window),
            Step::SabWrite(w) => Some(w.window),
            Step::PortPost(p) => Some(p.from),
            Step::PortCall { from, .. } => Some(*from),
            Step::Remove { window } | Step::Close { window } | Step::Create { window } => {
                case.windows[*window].relation.creator()
            }
            Step::WaitLoaded { .. } => None,
        }
    }

    /// The window the step acts on (the target of a post).
    pub fn subject(&self) -> WindowIndex {
        match self {
            Step::Post(p) => p.to,
            Step::Navigate(n) => n.window,
            Step::Reload { window }
            | Step::Remove { window }
            | Step::Close { window }
            | Step::PushState { window }
            | Step::Fragment { window, .. }
            | Step::SetDomain { window, .. }
            | Step::Create { window }
            | Step::WaitLoaded { window }
            | Step::Channel { window, .. } => *window,
            Step::SabWrite(w) => w.window,
            Step::PortPost(p) => p.from,
            Step::PortCall { from, .. } => *from,
        }
    }

    /// The step's name in the case format.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Post(_) => "post",
            Step::Navigate(_) => "navigate",
            Step::Reload { .. } => "reload",
            Step::Remove { .. } => "remove",
            Step::Close { .. } => "close",
            Step::PushState { .. } => "push_state",
            Step::Fragment { .. } => "fragment",
            Step::SetDomain { .. } => "set_domain",
            Step::Create { .. } => "create",
            Step::WaitLoaded { .. } => "wait",
            Step::Channel { .. } => "channel",
            Step::PortPost(_) => "port_post",
            Step::SabWrite(_) => "sab_write",
            Step::PortCall {
                action: PortAction::Start,
                ..
            } => "port_start",
            Step::PortCall {
                action: PortAction::Close,
                ..
            } => "port_close",
        }
    }

    /// The post, if this step is one.
    pub fn as_post(&self) -> Option<&Post> {
        match self {
            Step::Post(p) => Some(p),
            _ => None,
        }
    }
}

/// A `postMessage` call.
#[derive(Debug, Clone)]
pub struct Post {
    /// The calling window.
    pub from: WindowIndex,
    /// The window whose `postMessage` is called.
    pub to: WindowIndex,
    /// The message.
    pub message: MessageValue,
    /// `targetOrigin`, or `None` for the one-argument form.
    pub target_origin: Option<String>,
    /// The transfer list, when given.
    pub transfer: Option<Vec<Transferable>>,
    /// How the call passes its arguments.
    pub form: CallForm,
    /// For a reply (`reply: true`), the step whose message `from` replies
    /// to: the call is `event.source.postMessage(...)` in `from`, with the
    /// `event` that message fired, and `to` is that step's sender. Only in
    /// cases without race steps, where no document is replaced, so
    /// `event.source` (the sender's WindowProxy) names the sender's
    /// current Window.
    pub reply_to: Option<usize>,
    /// `function_of`: the window whose `postMessage` function is called,
    /// with `to` as `this` (`fn.postMessage.call(to, ...)`); `None` for
    /// `to.postMessage(...)`. Same origin-domain with `from`, so `from`
    /// reads that window's own function ([`crate::post_message`]).
    pub function_of: Option<WindowIndex>,
}

impl Post {
    /// The windows whose realms make the Errors of its values (`$error`'s
    /// `realm`), in its message, arguments and transfer list, once each.
    pub fn error_realms(&self) -> Vec<String> {
        let mut out = self.message.error_realms();
        if let CallForm::Args(args) = &self.form {
            out.extend(args.iter().flat_map(|a| a.error_realms()));
        }
        realms_once(out, self.transfer.iter().flatten())
    }
}

impl PortPost {
    /// The windows whose realms make the Errors of its message and
    /// transfer list (`$error`'s `realm`), once each.
    pub fn error_realms(&self) -> Vec<String> {
        realms_once(self.message.error_realms(), &self.transfer)
    }
}

/// `realms`, then those of the transfer list's values, each once, in the
/// order first met.
fn realms_once<'a>(
    realms: Vec<String>,
    transfer: impl IntoIterator<Item = &'a Transferable>,
) -> Vec<String> {
    let mut all = realms;
    for t in transfer {
        if let Transferable::Value(value) = t {
            all.extend(value.error_realms());
        }
    }
    let mut once = Vec::new();
    for r in all {
        if !once.contains(&r) {
            once.push(r);
        }
    }
    once
}

/// How a post passes its arguments to `postMessage`.
#[derive(Debug, Clone, PartialEq)]
pub enum CallForm {
    /// `postMessage(message)`, `postMessage(message, targetOrigin)` or
    /// `postMessage(message, targetOrigin, transfer)`, from
    /// [`Post::target_origin`] and [`Post::transfer`] (a transfer list
    /// without a targetOrigin is passed as `{transfer}`).
    Positional,
    /// `postMessage(message, {targetOrigin, transfer})` (the case's
    /// `options`), with only the members [`Post::target_origin`] and
    /// [`Post::transfer`] hold.
    Options,
    /// `postMessage(...args)` (the case's `args`), exactly this argument
    /// list; [`Post::message`] is its first element (`undefined` when there
    /// is none), `target_origin` and `transfer` are `None`.
    Args(Vec<ArgValue>),
}

impl Case {
    /// Whether the case's browsing context group is cross-origin isolated
    /// (its top window asks for it).
    pub fn is_isolated(&self) -> bool {
        self.windows
            .iter()
            .any(|w| w.relation == Relation::Top && w.isolated)
    }

    /// The index of the window named `name`.
    pub fn window_index(&self, name: &str) -> Option<WindowIndex> {
        self.windows.iter().position(|w| w.name == name)
    }

    /// The iframes of `parent` created up front, in creation order: before
    /// any step, `parent.frames[i]` is the i-th of them.
    pub fn child_frames(&self, parent: WindowIndex) -> Vec<WindowIndex> {
        (0..self.windows.len())
            .filter(|&i| {
                self.windows[i].relation == Relation::Iframe { parent }
                    && self.windows[i].created_by_step.is_none()
            })
            .collect()
    }

    /// Whether the case is a race case: a step other than `post`,
    /// `channel`, `port_post`, `port_start` and `port_close` changes
    /// the window tree or a document, or (`sab_write`) shared memory a
    /// queued message may or may not read yet, so the model explores every
    /// order of the event loop's tasks and the harness repeats the case.
    pub fn is_race(&self) -> bool {
        self.steps.iter().any(|s| {
            !matches!(
                s,
                Step::Post(_) | Step::Channel { .. } | Step::PortPost(_) | Step::PortCall { .. }
            )
        })
    }

    /// The posts, with their step indices.
    pub fn posts(&self) -> impl Iterator<Item = (usize, &Post)> {
        self.steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_post().map(|p| (i, p)))
    }

    /// The tasks in order, each as the range of step indices it runs.
    pub fn tasks(&self) -> Vec<std::ops::Range<usize>> {
        let mut out: Vec<std::ops::Range<usize>> = Vec::new();
        for (i, &t) in self.task_of_step.iter().enumerate() {
            match out.last_mut() {
                Some(r) if i > 0 && self.task_of_step[i - 1] == t => r.end = i + 1,
                _ => out.push(i..i + 1),
            }
        }
        out
    }
}

/// Parses and validates a case. `file` names the file in errors.
pub fn parse_case(file: &str, text: &str) -> Result<Case, Vec<CaseError>> {
    validate::parse_and_validate(file, text)
}
