//! What a run was, for the top of every report: when it started, which
//! pmconf, the command line, and for each case what the reports need
//! beside its results (its file, its references, each post's call).
//!
//! Gathered once at the edge (`pmconf run`) and sent as the first event,
//! so reports keep consuming one event stream, and written into the
//! results file so a report can be drawn again from it alone.

use crate::case_files::LoadedCase;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::path::Path;
use std::process::Command;

/// A run's context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// When the run started, in milliseconds since the Unix epoch (UTC).
    pub started_unix_ms: u64,
    /// pmconf's package version.
    pub pmconf_version: String,
    /// The source revision, e.g. `7fb15fb-dirty`, or `unknown`.
    pub revision: String,
    /// How [`revision`](Self::revision) was found (or why it was not).
    pub revision_source: String,
    /// The command line, one argument per item.
    pub command_line: Vec<String>,
    /// Every case of the run, in the order given.
    pub cases: Vec<CaseInfo>,
    /// Every engine instance the run drives: binaries, arguments, where.
    #[serde(default)]
    pub instances: Vec<InstanceInfo>,
}

/// What an engine instance is made of, as the run found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceInfo {
    /// Its name (results, snapshots and reports are keyed by it).
    pub name: String,
    /// Which engine it is: `chromium`, `firefox` or `webkitgtk`.
    pub kind: String,
    /// `local`, or the remote WebDriver endpoint's URL.
    pub location: String,
    /// The browser binary (a remote one's path on the endpoint; `None`
    /// when the endpoint chooses).
    pub browser: Option<String>,
    /// The driver binary (`None` for a remote instance).
    pub driver: Option<String>,
    /// Browser arguments added to pmconf's own.
    pub args: Vec<String>,
    /// The engine whose accepted snapshots it is compared with while it
    /// has none of its own.
    pub compare_with: Option<String>,
}

impl InstanceInfo {
    /// What `instance` is, its local binaries resolved as its session
    /// would resolve them (named ones, else the system engine's).
    pub fn of(instance: &crate::engine::EngineInstance) -> Self {
        use crate::engine::Location;
        let (location, browser, driver) = match &instance.location {
            Location::Local(binaries) => {
                let found = instance.installed(binaries).ok();
                let path = |p: &Path| p.display().to_string();
                (
                    "local".to_owned(),
                    found.as_ref().map(|i| path(&i.browser.path)),
                    found.as_ref().map(|i| path(&i.driver.path)),
                )
            }
            Location::Remote { url, browser } => (
                url.clone(),
                browser.as_ref().map(|b| b.display().to_string()),
                None,
            ),
        };
        Self {
            name: instance.name.clone(),
            kind: instance.kind.name().to_owned(),
            location,
            browser,
            driver,
            args: instance.args.clone(),
            compare_with: instance.compare_with.clone(),
        }
    }

    /// One line: `chromium-flags (chromium): browser /usr/bin/chromium,
    /// driver /usr/bin/chromedriver, args --foo, compared with chromium`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.location != "local" {
            parts.push(format!("remote {}", self.location));
        }
        parts.push(format!(
            "browser {}",
            self.browser.as_deref().unwrap_or("as the endpoint chooses")
        ));
        if let Some(driver) = &self.driver {
            parts.push(format!("driver {driver}"));
        }
        if !self.args.is_empty() {
            parts.push(format!(
                "args {}",
                super::super::report::shell_words(&self.args)
            ));
        }
        if let Some(other) = &self.compare_with {
            parts.push(format!("compared with {other}'s accepted snapshots"));
        }
        format!("{} ({}): {}", self.name, self.kind, parts.join(", "))
    }

    /// Whether it is a plain system engine (named after its kind, local,
    /// nothing added).
    pub fn is_plain_system(&self) -> bool {
        self.name == self.kind
            && self.location == "local"
            && self.args.is_empty()
            && self.compare_with.is_none()
    }
}

/// What reports show about a case besides its results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseInfo {
    /// The case's name, as in [`CaseResult::case`](super::events::CaseResult::case).
    pub case: String,
    /// The case file as an absolute path, when it could be resolved.
    pub file: Option<String>,
    /// The case's `references` (spec sections, issues), as written.
    #[serde(default)]
    pub references: Vec<String>,
    /// Every `post` step's call, in step order.
    #[serde(default)]
    pub posts: Vec<PostCall>,
}

/// One `post` step as the case wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostCall {
    /// The step's number (as in the outcome's `posts[].step`).
    pub step: usize,
    /// The calling window.
    pub from: String,
    /// The window whose `postMessage` is called.
    pub to: String,
    /// `targetOrigin`; `None` for the one-argument form.
    pub target_origin: Option<String>,
    /// The message, in the case format's tagged JSON.
    pub message: Json,
    /// The call form when it is not positional: `{"options": {...}}` (the
    /// members given) or `{"args": [...]}` (the raw argument list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Json>,
}

/// [`PostCall::form`] of a post.
pub fn call_form(p: &pmconf_model::case::Post) -> Option<Json> {
    use pmconf_model::case::CallForm;
    use pmconf_model::message::Transferable;
    match &p.form {
        CallForm::Positional => None,
        CallForm::Options => {
            let mut options = serde_json::Map::new();
            if let Some(t) = &p.target_origin {
                options.insert("targetOrigin".into(), Json::String(t.clone()));
            }
            if let Some(list) = &p.transfer {
                let items = list
                    .iter()
                    .map(|t| match t {
                        Transferable::BufferId(id) => Json::String(id.clone()),
                        Transferable::Value(v) => v.to_tagged_json(),
                    })
                    .collect();
                options.insert("transfer".into(), Json::Array(items));
            }
            Some(serde_json::json!({ "options": options }))
        }
        CallForm::Args(args) => Some(serde_json::json!({
            "args": args.iter().map(|a| a.to_tagged_json()).collect::<Vec<_>>()
        })),
    }
}

impl CaseInfo {
    /// The info of a loaded case.
    pub fn of(loaded: &LoadedCase) -> Self {
        let case = &loaded.case;
        let window = |w: usize| case.windows[w].name.clone();
        let posts = case
            .steps
            .iter()
            .enumerate()
            .filter_map(|(step, s)| s.as_post().map(|p| (step, p)))
            .map(|(step, p)| PostCall {
                step,
                from: window(p.from),
                to: window(p.to),
                target_origin: p.target_origin.clone(),
                message: p.message.to_tagged_json(),
                form: call_form(p),
            })
            .collect();
        Self {
            case: loaded.name.clone(),
            file: std::fs::canonicalize(&loaded.path)
                .ok()
                .map(|p| p.display().to_string()),
            references: case.references.clone(),
            posts,
        }
    }
}

impl RunInfo {
    /// The context of a run starting now, of `cases`, with this process's
    /// command line; the revision is asked of git at run time (see
    /// [`source_revision`]).
    pub fn now(cases: &[LoadedCase]) -> Self {
        let started_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let (revision, revision_source) = source_revision();
        Self {
            started_unix_ms,
            pmconf_version: env!("CARGO_PKG_VERSION").to_owned(),
            revision,
            revision_source,
            // Lossily: a non-UTF-8 argument (a file name) must not stop the run.
            command_line: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            cases: cases.iter().map(CaseInfo::of).collect(),
            instances: Vec::new(),
        }
    }

    /// The same, recording what each of `instances` is made of.
    pub fn with_instances(mut self, instances: &[crate::engine::EngineInstance]) -> Self {
        self.instances = instances.iter().map(InstanceInfo::of).collect();
        self
    }

    /// The info of one case, if the run has it.
    pub fn case(&self, case: &str) -> Option<&CaseInfo> {
        self.cases.iter().find(|c| c.case == case)
    }
}

/// The revision of the source tree this binary was built from, as `git
/// describe --always --dirty` says **at run time** in that tree (its path
/// is fixed at build time), with a sentence saying so; `unknown` and the
/// reason when git is missing or the tree is not a checkout.
pub fn source_revision() -> (String, String) {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new(env!("CARGO_MANIFEST_DIR")));
    let asked = format!(
        "`git describe --always --dirty` at run time in {}",
        tree.display()
    );
    match Command::new("git")
        .arg("-C")
        .arg(tree)
        .args(["describe", "--always", "--dirty"])
        .output()
    {
        Ok(out) if out.status.success() => {
            let revision = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            (revision, asked)
        }
        Ok(out) => (
            "unknown".to_owned(),
            format!(
                "{asked} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ),
        Err(e) => ("unknown".to_owned(), format!("{asked} failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_files::load_cases;

    #[test]
    fn a_case_keeps_its_references_and_each_post_call_by_step_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        std::fs::write(
            &path,
            r#"description: d
references: ["https://html.spec.whatwg.org/#dom-window-postmessage"]
windows:
  top: { url: "http://a.test/" }
  child: { parent: top, url: "http://b.test/" }
steps:
  - navigate: { window: child, url: "http://c.test/", by: top }
  - wait: { loaded: child }
  - post: { from: top, to: child, message: { n: 1 }, target_origin: "http://c.test" }
  - post: { from: child, to: top, message: "hi" }
"#,
        )
        .unwrap();
        let loaded = load_cases(std::slice::from_ref(&path)).unwrap();
        let info = CaseInfo::of(&loaded[0]);
        assert_eq!(
            info.references,
            ["https://html.spec.whatwg.org/#dom-window-postmessage"]
        );
        assert_eq!(
            info.file.as_deref(),
            Some(std::fs::canonicalize(&path).unwrap().to_str().unwrap())
        );
        assert_eq!(
            info.posts,
            [
                PostCall {
                    step: 2,
                    from: "top".into(),
                    to: "child".into(),
                    target_origin: Some("http://c.test".into()),
                    message: serde_json::json!({"n": 1}),
                    form: None,
                },
                PostCall {
                    step: 3,
                    from: "child".into(),
                    to: "top".into(),
                    target_origin: None,
                    message: serde_json::json!("hi"),
                    form: None,
                },
            ]
        );
    }

    #[test]
    fn the_revision_says_how_it_was_found() {
        let (revision, source) = source_revision();
        assert!(!revision.is_empty());
        assert!(source.contains("at run time"), "{source}");
    }
}
