//! The case file as written: what serde reads before validation.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// A case file, field for field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCase {
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Links to the spec text or issues the case is about.
    #[serde(default)]
    pub references: Vec<String>,
    pub windows: RawWindows,
    pub steps: Vec<RawStep>,
}

/// Windows in the order written, duplicates kept (so they can be reported).
#[derive(Debug)]
pub(crate) struct RawWindows(pub Vec<(String, RawWindow)>);

impl<'de> Deserialize<'de> for RawWindows {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawWindows;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from window name to window")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<RawWindows, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = a.next_entry::<String, RawWindow>()? {
                    out.push(entry);
                }
                Ok(RawWindows(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWindow {
    pub url: Option<String>,
    pub srcdoc: Option<String>,
    pub parent: Option<String>,
    pub opener: Option<String>,
    pub sandbox: Option<String>,
    /// `isolated: true` (top window only): the case's pages are served
    /// with COOP `same-origin` and COEP `require-corp`.
    pub isolated: Option<bool>,
}

/// A step is a map with exactly one key naming its kind (`post: {...}`).
/// serde_yaml 0.9 reads externally tagged enums only from YAML tags
/// (`!post`), so the kinds are optional fields and validation checks that
/// exactly one is present.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub post: Option<RawPost>,
    pub navigate: Option<RawNavigate>,
    pub reload: Option<RawWindowRef>,
    pub remove: Option<RawWindowRef>,
    pub close: Option<RawWindowRef>,
    pub push_state: Option<RawWindowRef>,
    pub fragment: Option<RawFragment>,
    pub set_domain: Option<RawSetDomain>,
    pub create: Option<RawWindowRef>,
    pub wait: Option<RawWait>,
    pub same_task: Option<Vec<RawStep>>,
    pub channel: Option<RawChannel>,
    pub port_post: Option<RawPortPost>,
    pub port_start: Option<RawPortCall>,
    pub port_close: Option<RawPortCall>,
    pub sab_write: Option<RawSabWrite>,
}

impl RawStep {
    /// The kinds present, by name.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut add = |present: bool, name| {
            if present {
                out.push(name)
            }
        };
        add(self.post.is_some(), "post");
        add(self.navigate.is_some(), "navigate");
        add(self.reload.is_some(), "reload");
        add(self.remove.is_some(), "remove");
        add(self.close.is_some(), "close");
        add(self.push_state.is_some(), "push_state");
        add(self.fragment.is_some(), "fragment");
        add(self.set_domain.is_some(), "set_domain");
        add(self.create.is_some(), "create");
        add(self.wait.is_some(), "wait");
        add(self.same_task.is_some(), "same_task");
        add(self.channel.is_some(), "channel");
        add(self.port_post.is_some(), "port_post");
        add(self.port_start.is_some(), "port_start");
        add(self.port_close.is_some(), "port_close");
        add(self.sab_write.is_some(), "sab_write");
        out
    }
}

/// The step kinds, for messages.
pub(crate) const STEP_KINDS: &str =
    "post, navigate, reload, remove, close, push_state, fragment, set_domain, create, wait, same_task, channel, port_post, port_start, port_close, sab_write";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWindowRef {
    pub window: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNavigate {
    pub window: String,
    pub url: String,
    pub by: Option<String>,
    pub via: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFragment {
    pub window: String,
    pub fragment: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSetDomain {
    pub window: String,
    pub domain: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWait {
    pub loaded: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPost {
    pub from: String,
    /// The target window; left out with `reply: true`.
    pub to: Option<String>,
    /// Left out only with `args` (`message: null` is the value null).
    #[serde(default, deserialize_with = "present_value")]
    pub message: Option<serde_yaml::Value>,
    #[serde(default, deserialize_with = "present_string")]
    pub target_origin: Option<String>,
    pub transfer: Option<Vec<serde_yaml::Value>>,
    /// The dictionary form: `postMessage(message, {targetOrigin, transfer})`.
    pub options: Option<RawOptions>,
    /// The raw argument list: `postMessage(...args)`.
    pub args: Option<Vec<serde_yaml::Value>>,
    /// `reply: true`: the target is `event.source` of the message the
    /// latest earlier post to `from` delivered, as a page replies.
    #[serde(default)]
    pub reply: bool,
    /// `function_of: W`: the call is `W.postMessage.call(target, ...)`,
    /// the `postMessage` function of another window `from` reaches same
    /// origin-domain.
    pub function_of: Option<String>,
}

/// A post's `options`: the members of the `WindowPostMessageOptions`
/// object, each left out of the object when absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOptions {
    #[serde(default, deserialize_with = "present_string")]
    pub target_origin: Option<String>,
    pub transfer: Option<Vec<serde_yaml::Value>>,
}

/// `target_origin` must be a string when present: `~` would silently mean
/// the one-argument form, which is spelled by leaving the key out.
fn present_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// A key that is present is `Some`, even when its value is `null` (serde
/// reads `null` as `None` for an `Option` otherwise).
fn present_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_yaml::Value>, D::Error> {
    serde_yaml::Value::deserialize(d).map(Some)
}

/// `channel: {window: top, ports: [p1, p2]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChannel {
    pub window: String,
    pub ports: Vec<String>,
    /// Whether the agent starts both ports at once (sets `onmessage`);
    /// `false` leaves them unstarted until a `port_start` step.
    pub start: Option<bool>,
}

/// `sab_write: {window: top, sab: s, offset: 0, bytes: [9]}`. Numbers
/// are read wide so that the validator can say what is out of range.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSabWrite {
    pub window: String,
    pub sab: String,
    pub offset: Option<i64>,
    pub bytes: Vec<i64>,
}

/// `port_start: {port: p1, from: top}` and `port_close: {port: p1}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPortCall {
    pub port: String,
    /// The window holding the port; defaults to the window whose
    /// `channel` step made it.
    pub from: Option<String>,
}

/// `port_post: {port: p1, message: ..., from: top, transfer: [...]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPortPost {
    pub port: String,
    /// The window holding the port; defaults to the window whose
    /// `channel` step made it.
    pub from: Option<String>,
    pub message: serde_yaml::Value,
    pub transfer: Option<Vec<serde_yaml::Value>>,
    /// `postMessage(message, {transfer})`: the StructuredSerializeOptions
    /// overload.
    pub options: Option<RawPortOptions>,
}

/// A `port_post`'s `options: {transfer: [...]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPortOptions {
    pub transfer: Option<Vec<serde_yaml::Value>>,
}
