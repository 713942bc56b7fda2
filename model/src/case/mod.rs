//! The YAML case format, version 1.
//!
//! A case is one YAML file: a description, the windows to create (a map
//! from name to description, in order of creation) and the steps to take.
//! [`parse_case`] reads and validates it, reporting every problem it finds
//! with its line and column.

mod error;
mod raw;
mod reach;
pub mod source_map;
mod validate;

pub use error::CaseError;
pub use reach::{reference_path, Hop};
pub use source_map::Location;

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
    /// The steps, in order.
    pub steps: Vec<Step>,
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

/// A step of a case.
#[derive(Debug, Clone)]
pub enum Step {
    /// `from` calls `to.postMessage(...)`.
    Post(Post),
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
}

impl Case {
    /// The index of the window named `name`.
    pub fn window_index(&self, name: &str) -> Option<WindowIndex> {
        self.windows.iter().position(|w| w.name == name)
    }

    /// The iframes of `parent`, in creation order: `parent.frames[i]` is the
    /// i-th of them.
    pub fn child_frames(&self, parent: WindowIndex) -> Vec<WindowIndex> {
        (0..self.windows.len())
            .filter(|&i| self.windows[i].relation == Relation::Iframe { parent })
            .collect()
    }
}

/// Parses and validates a case. `file` names the file in errors.
pub fn parse_case(file: &str, text: &str) -> Result<Case, Vec<CaseError>> {
    validate::parse_and_validate(file, text)
}
