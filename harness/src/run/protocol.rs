//! The agent protocol as Rust types: what pmconf tells a document's agent
//! (its configuration, built by [`super::plan`]), and what the agent
//! answers for a task (one [`StepResult`] per step). Field names are the
//! agent's own (`agent.js` reads `C.reportBase`, `C.steps["3"].replyTo`...),
//! so the serde names here are its contract; the message values inside are
//! the model's tagged JSON.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// One hop of a path from a window to another: `["parent"]`,
/// `["opener"]`, `["frame", i]`, or `["handle", name]` (a popup by the
/// variable its opener holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HopStep {
    /// `window.parent`.
    Parent,
    /// `window.opener`.
    Opener,
    /// `window.frames[i]`.
    Frame(usize),
    /// The popup the agent opened under this name.
    Handle(String),
}

impl Serialize for HopStep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            HopStep::Parent => ["parent"].serialize(s),
            HopStep::Opener => ["opener"].serialize(s),
            HopStep::Frame(i) => ("frame", i).serialize(s),
            HopStep::Handle(name) => ("handle", name).serialize(s),
        }
    }
}

/// A path of hops, from the window whose agent takes it.
pub type Path = Vec<HopStep>;

/// A JSON object whose keys keep the order they were inserted in (the
/// agent iterates some of them, e.g. the windows it can name).
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<T> Ordered<T> {
    /// Adds `key` (last).
    pub fn insert(&mut self, key: String, value: T) {
        self.0.push((key, value));
    }
}

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// What a document's agent is told (`window.__pmconfConfig`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentConfig {
    /// Its window's page key (`<engine>/<case>.<mount>/<window>`).
    pub key: String,
    /// Its document's label (`kid`, `kid@2`).
    pub doc: String,
    /// Whether the case is a race case.
    pub race: bool,
    /// Its window's name in the case.
    pub name: String,
    /// Where its reports and its `bye` go (an http(s) URL).
    pub report_base: String,
    /// What every end-of-case (and epoch) marker message starts with.
    pub marker_prefix: String,
    /// The run's channel token.
    pub token: String,
    /// The harness's host (channel hosts are subdomains of it).
    pub harness_host: String,
    /// A path to every window this one can reach, by name.
    pub source_refs: Ordered<Path>,
    /// Senders it cannot reach (named by elimination).
    pub unreachable_senders: Vec<String>,
    /// The way back from each unreachable sender to this window.
    pub back_refs: Ordered<Path>,
    /// The windows that post to this one.
    pub senders_here: Vec<String>,
    /// What an `event.source` it cannot name is reported as.
    pub unidentified_source: String,
    /// Its window's steps, by index (as a string: a JS object's keys).
    pub steps: Ordered<StepEntry>,
    /// The windows it creates as it starts.
    pub children: Vec<ChildConfig>,
    /// What it needs to name MessagePorts.
    pub ports: PortConfig,
}

/// A step's configuration, with what it waits for and ships of ports.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepEntry {
    /// The step.
    #[serde(flatten)]
    pub step: StepConfig,
    /// Ports that come to this window in an earlier task's message, which
    /// the agent waits for before it runs the step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub await_ports: Vec<String>,
    /// The ports a post's transfer list holds as its arguments resolve.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ships_ports: Vec<String>,
}

/// One entry of a transfer list: a buffer by its id, or a value.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Transfer {
    /// A `$buffer` named by its id.
    Buffer(String),
    /// Any other value, in the tagged form.
    Value(Json),
}

/// How the agent passes a post's arguments.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CallFormConfig {
    /// `postMessage(message, targetOrigin[, transfer])`.
    Positional,
    /// `postMessage(message, {targetOrigin, transfer})`, only the members
    /// given.
    Options,
    /// `postMessage(...args)`, the raw arguments in the case syntax.
    Args {
        /// The arguments.
        args: Vec<Json>,
    },
}

/// The window whose `postMessage` function a cross-window call calls
/// (`fn.postMessage.call(target, ...)`).
#[derive(Debug, Clone, Serialize)]
pub struct FunctionOf {
    /// The path to it from the caller.
    pub path: Path,
    /// Its name in the case: what the agent reports an exception made in
    /// its realm with (`SyntaxError@name`).
    pub name: String,
}

/// A step as the agent runs it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepConfig {
    /// `target.postMessage(...)`.
    #[serde(rename_all = "camelCase")]
    Post {
        /// The path to the target (empty for a reply).
        target: Path,
        /// A reply posts to `event.source` of this document's n-th message
        /// event.
        reply_to: Option<usize>,
        /// The message, tagged.
        message: Json,
        /// The targetOrigin argument, if any.
        target_origin: Option<String>,
        /// The transfer list, if any.
        transfer: Option<Vec<Transfer>>,
        /// The call form.
        form: CallFormConfig,
        /// A cross-window call (`function_of`): whose `postMessage`
        /// function is called with the target as `this`.
        #[serde(skip_serializing_if = "Option::is_none")]
        function_of: Option<FunctionOf>,
        /// The windows whose realms make the post's `$error`s (`realm`),
        /// by name, with the path to each.
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        realms: std::collections::BTreeMap<String, Path>,
    },
    /// `el.src = url` or `target.location.href = url`.
    Navigate {
        /// The navigated window's name.
        name: String,
        /// The path to it.
        target: Path,
        /// `src` or `location`.
        via: &'static str,
        /// Where to.
        url: String,
    },
    /// `location.reload()`.
    Reload {
        /// The window's name.
        name: String,
    },
    /// The iframe element removed.
    Remove {
        /// The window's name.
        name: String,
    },
    /// The popup closed by its opener.
    Close {
        /// The window's name.
        name: String,
    },
    /// `history.pushState(...)`.
    PushState {
        /// The window's name.
        name: String,
    },
    /// `location.hash = fragment`.
    Fragment {
        /// The fragment.
        fragment: String,
    },
    /// `document.domain = domain`.
    SetDomain {
        /// The value.
        domain: String,
    },
    /// `new Uint8Array(sab).set(bytes, offset)`, where `sab` is the
    /// SharedArrayBuffer named `sab` in the message of this window's post
    /// step `post`.
    SabWrite {
        /// The post step whose message made the buffer.
        post: usize,
        /// Its `$id`.
        sab: String,
        /// The first byte written.
        offset: usize,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A window made by this step.
    Create {
        /// How.
        child: ChildConfig,
    },
    /// `new MessageChannel()`.
    Channel {
        /// The names of `port1` and `port2`.
        ports: [String; 2],
        /// Whether both are started at once.
        start: bool,
    },
    /// `port.postMessage(...)`.
    PortPost {
        /// The port.
        port: String,
        /// The message, tagged.
        message: Json,
        /// The transfer list.
        transfer: Vec<Transfer>,
        /// Whether the options form is used.
        options: bool,
        /// The windows whose realms make the message's `$error`s
        /// (`realm`), by name, with the path to each from the port's
        /// holder.
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        realms: std::collections::BTreeMap<String, Path>,
    },
    /// `port.onmessage = ...` (starts it).
    PortStart {
        /// The port.
        port: String,
    },
    /// `port.close()`.
    PortClose {
        /// The port.
        port: String,
    },
}

/// A window the agent creates.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildConfig {
    /// `iframe` or `popup`.
    pub kind: &'static str,
    /// Its name in the case.
    pub name: String,
    /// Its page key.
    pub key: String,
    /// Its `sandbox` attribute.
    pub sandbox: Option<String>,
    /// The URL as written (http(s) windows).
    pub src: Option<String>,
    /// Its page's path on the server.
    pub page_path: String,
    /// A `srcdoc` document's whole page.
    pub srcdoc: Option<String>,
    /// A `data:` document's page.
    pub data_html: Option<String>,
    /// The agent to inject into an `about:blank` document.
    pub inject: Option<String>,
    /// The label of its initial `about:blank` document, when the creator
    /// watches it.
    pub blank_doc: Option<String>,
}

/// A message that carries ports, with their names in transfer order.
#[derive(Debug, Clone, Serialize)]
pub struct PortCandidate {
    /// The message as the receiver observes it.
    pub message: Json,
    /// The ports' names.
    pub ports: Vec<String>,
}

/// What the agent needs to name ports: every message carrying ports, and
/// each port's entangled twin.
#[derive(Debug, Clone, Serialize)]
pub struct PortConfig {
    /// The candidates.
    pub candidates: Vec<PortCandidate>,
    /// Port name to its twin's.
    pub twins: BTreeMap<String, String>,
}

/// What the agent answers for one step of a task (and, after the steps, a
/// marker failure).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepResult {
    /// The name of the exception it threw, or nothing.
    #[serde(default)]
    pub threw: Option<String>,
    /// Its message.
    #[serde(default)]
    pub message: Option<String>,
    /// The harness itself failed (a window it could not reach...).
    #[serde(default)]
    pub harness_error: Option<String>,
}

impl StepResult {
    /// A task's answer: one result per entry, or why it cannot be read.
    pub fn list(results: &Json) -> Result<Vec<StepResult>, String> {
        match results {
            Json::Array(items) => items
                .iter()
                .map(|r| {
                    StepResult::deserialize(r).map_err(|e| format!("an unreadable result {r}: {e}"))
                })
                .collect(),
            other => Err(format!("the agent answered {other}, not a list of results")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The agent reads paths as arrays whose first item names the hop.
    #[test]
    fn hops_are_the_arrays_the_agent_walks() {
        let path: Path = vec![
            HopStep::Parent,
            HopStep::Frame(2),
            HopStep::Opener,
            HopStep::Handle("pop".into()),
        ];
        assert_eq!(
            serde_json::to_value(path).unwrap(),
            json!([["parent"], ["frame", 2], ["opener"], ["handle", "pop"]])
        );
    }

    /// A step's kind and fields as `agent.js` reads them (`s.kind`,
    /// `s.replyTo`, `s.targetOrigin`, `s.form.kind`, `s.awaitPorts`).
    #[test]
    fn a_step_has_the_agents_names() {
        let entry = StepEntry {
            step: StepConfig::Post {
                target: vec![HopStep::Frame(0)],
                reply_to: None,
                message: json!("m"),
                target_origin: Some("*".into()),
                transfer: Some(vec![Transfer::Buffer("b".into())]),
                form: CallFormConfig::Positional,
                function_of: None,
                realms: Default::default(),
            },
            await_ports: vec!["p2".into()],
            ships_ports: vec![],
        };
        assert_eq!(
            serde_json::to_value(entry).unwrap(),
            json!({"kind": "post", "target": [["frame", 0]], "replyTo": null, "message": "m",
                   "targetOrigin": "*", "transfer": [{"buffer": "b"}], "form": {"kind": "positional"},
                   "awaitPorts": ["p2"]})
        );
        let call = StepConfig::Post {
            target: vec![HopStep::Frame(0)],
            reply_to: None,
            message: json!("m"),
            target_origin: None,
            transfer: None,
            form: CallFormConfig::Positional,
            function_of: Some(FunctionOf {
                path: vec![HopStep::Frame(1)],
                name: "same".into(),
            }),
            realms: [("same".to_owned(), vec![HopStep::Frame(1)])].into(),
        };
        assert_eq!(
            serde_json::to_value(&call).unwrap()["functionOf"],
            json!({"path": [["frame", 1]], "name": "same"})
        );
        assert_eq!(
            serde_json::to_value(&call).unwrap()["realms"],
            json!({"same": [["frame", 1]]})
        );
        let set = StepConfig::SetDomain {
            domain: "a.test".into(),
        };
        assert_eq!(
            serde_json::to_value(set).unwrap(),
            json!({"kind": "set_domain", "domain": "a.test"})
        );
        // What agent.js's `sab_write` reads (`s.post`, `s.sab`...).
        let write = StepConfig::SabWrite {
            post: 2,
            sab: "s".into(),
            offset: 1,
            bytes: vec![9, 8],
        };
        assert_eq!(
            serde_json::to_value(write).unwrap(),
            json!({"kind": "sab_write", "post": 2, "sab": "s", "offset": 1, "bytes": [9, 8]})
        );
    }

    #[test]
    fn results_are_read_or_refused_with_the_reason() {
        let got = StepResult::list(&json!([{"threw": null}, {"threw": "SyntaxError", "message": "bad"}, {"harnessError": "no window"}])).unwrap();
        assert_eq!(got[0], StepResult::default());
        assert_eq!(got[1].threw.as_deref(), Some("SyntaxError"));
        assert_eq!(got[2].harness_error.as_deref(), Some("no window"));
        assert!(StepResult::list(&json!({"harnessError": "x"})).is_err());
        assert!(StepResult::list(&json!([{"threw": 3}])).is_err());
    }
}
