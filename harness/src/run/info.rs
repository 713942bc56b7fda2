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
    /// The source revision for people, e.g. `7fb15fb-dirty`, or `unknown`.
    pub revision: String,
    /// The full commit hash of the same revision (what wpt.fyi wants),
    /// when known.
    #[serde(default)]
    pub commit: Option<String>,
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
    /// A cross-window call: the window whose `postMessage` function is
    /// called with `to` as `this` (the case's `function_of`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_of: Option<String>,
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
                function_of: p.function_of.map(window),
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
    /// command line; the revision is found once, here ([`source_revision`]).
    pub fn now(cases: &[LoadedCase]) -> Self {
        let started_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let Revision {
            described,
            commit,
            source,
        } = source_revision();
        Self {
            started_unix_ms,
            pmconf_version: env!("CARGO_PKG_VERSION").to_owned(),
            revision: described,
            commit,
            revision_source: source,
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

/// The revision of pmconf a run names, found once per run
/// ([`RunInfo::now`]): for people ([`described`](Self::described), `git
/// describe`) and for wpt.fyi ([`commit`](Self::commit), the full hash),
/// always of one commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// `git describe --always --dirty`, e.g. `7fb15fb-dirty`; `unknown`
    /// when nothing names it.
    pub described: String,
    /// The full commit hash, when known.
    pub commit: Option<String>,
    /// How it was found (or why it was not).
    pub source: String,
}

/// The variables that may name the commit, first found first: set by
/// whoever runs pmconf (`scripts/simulate-night`), and by GitHub Actions.
const REVISION_VARIABLES: [&str; 2] = ["PMCONF_REVISION", "GITHUB_SHA"];

/// The revision of the source tree this binary was built from (its path
/// is fixed at build time), asked of git **at run time** in that tree,
/// never in the current directory; a commit named by
/// [`REVISION_VARIABLES`] wins (then both names are that commit's).
pub fn source_revision() -> Revision {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tree = manifest.parent().unwrap_or(manifest);
    let told = REVISION_VARIABLES.iter().find_map(|var| {
        let value = std::env::var(var).ok()?;
        let value = value.trim();
        is_commit_hash(value).then(|| (*var, value.to_ascii_lowercase()))
    });
    revision_of(tree, told, &git_in)
}

fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// What asks git: `git -C tree args...`, its trimmed output or why it
/// failed.
type Git = dyn Fn(&Path, &[&str]) -> Result<String, String>;

/// Runs git with `args` in `tree`: its trimmed output, or why it failed.
fn git_in(tree: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(tree)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// [`source_revision`] with the commit the environment names (`told`:
/// the variable and the hash) and git given.
fn revision_of(tree: &Path, told: Option<(&str, String)>, git: &Git) -> Revision {
    let asked = format!(
        "`git describe --always --dirty` at run time in {}",
        tree.display()
    );
    let head = git(tree, &["rev-parse", "HEAD"])
        .ok()
        .filter(|h| is_commit_hash(h));
    match told {
        Some((var, commit)) if head.as_deref() != Some(commit.as_str()) => {
            // The tree is elsewhere (or no checkout): the variable names
            // the run, and the people's name is of its commit too.
            let described = git(tree, &["describe", "--always", &commit])
                .unwrap_or_else(|_| commit[..12].to_owned());
            let tree_is = match &head {
                Some(h) => format!("at {h}"),
                None => "no git checkout".to_owned(),
            };
            Revision {
                described,
                commit: Some(commit),
                source: format!("{var} (the source tree {} is {tree_is})", tree.display()),
            }
        }
        _ => match git(tree, &["describe", "--always", "--dirty"]) {
            Ok(described) => Revision {
                described,
                commit: head,
                source: asked,
            },
            Err(e) => Revision {
                described: "unknown".to_owned(),
                commit: None,
                source: format!("{asked} failed: {e}"),
            },
        },
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
                    function_of: None,
                },
                PostCall {
                    step: 3,
                    from: "child".into(),
                    to: "top".into(),
                    target_origin: None,
                    message: serde_json::json!("hi"),
                    form: None,
                    function_of: None,
                },
            ]
        );
    }

    #[test]
    fn the_revision_says_how_it_was_found() {
        let r = source_revision();
        assert!(!r.described.is_empty());
        assert!(
            r.source.contains("at run time") || r.source.starts_with("PMCONF_REVISION"),
            "{}",
            r.source
        );
    }

    const HEAD: &str = "7fb15fb0123456789abcdef0123456789abcdef0";
    const OTHER: &str = "0123456789abcdef0123456789abcdef01234567";

    /// A tree at HEAD: `describe --dirty` says `7fb15fb-dirty`, and any
    /// other commit is described by its first seven digits.
    fn tree_at_head(_: &Path, args: &[&str]) -> Result<String, String> {
        match args {
            ["rev-parse", "HEAD"] => Ok(HEAD.into()),
            ["describe", "--always", "--dirty"] => Ok("7fb15fb-dirty".into()),
            ["describe", "--always", commit] => Ok(commit[..7].into()),
            _ => Err("unexpected".into()),
        }
    }

    fn no_checkout(_: &Path, _: &[&str]) -> Result<String, String> {
        Err("fatal: not a git repository".into())
    }

    /// The two names came from two places before (`git describe` in the
    /// source tree for the header and the results, the variables or `git
    /// rev-parse HEAD` in the *current directory* for the wptreport): a
    /// run from another checkout, or with a variable naming another
    /// commit, named two revisions. Now both are of one commit.
    #[test]
    fn one_run_names_one_commit_for_people_and_for_wpt_fyi() {
        let tree = Path::new("/src/pmconf");
        let r = revision_of(tree, None, &tree_at_head);
        assert_eq!(r.described, "7fb15fb-dirty");
        assert_eq!(r.commit.as_deref(), Some(HEAD));
        // A variable naming the tree's own commit changes nothing.
        let told = Some(("GITHUB_SHA", HEAD.to_owned()));
        assert_eq!(revision_of(tree, told, &tree_at_head), r);
        // A variable naming another commit names the run, both ways.
        let told = Some(("PMCONF_REVISION", OTHER.to_owned()));
        let r = revision_of(tree, told, &tree_at_head);
        assert_eq!(
            (r.described.as_str(), r.commit.as_deref()),
            ("0123456", Some(OTHER))
        );
        assert!(r.source.starts_with("PMCONF_REVISION"), "{}", r.source);
        // No checkout: the variable's commit, else nothing.
        let told = Some(("GITHUB_SHA", OTHER.to_owned()));
        let r = revision_of(tree, told, &no_checkout);
        assert_eq!(
            (r.described.as_str(), r.commit.as_deref()),
            ("0123456789ab", Some(OTHER))
        );
        let r = revision_of(tree, None, &no_checkout);
        assert_eq!((r.described.as_str(), r.commit), ("unknown", None));
        assert!(r.source.contains("not a git repository"), "{}", r.source);
    }

    /// With a real git and a real repository: the hash is the commit the
    /// description abbreviates, whatever the current directory.
    #[test]
    fn a_real_checkout_is_described_and_hashed_alike() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@t.test"])
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
        };
        git(&["init", "-q"]);
        std::fs::write(dir.path().join("a"), "a").unwrap();
        git(&["add", "a"]);
        git(&["commit", "-q", "-m", "a"]);
        let r = revision_of(dir.path(), None, &git_in);
        let commit = r.commit.expect("a checkout has a commit");
        assert!(is_commit_hash(&commit), "{commit}");
        assert!(
            commit.starts_with(&r.described),
            "{} of {commit}",
            r.described
        );
        std::fs::write(dir.path().join("a"), "b").unwrap();
        let dirty = revision_of(dir.path(), None, &git_in);
        assert_eq!(dirty.described, format!("{}-dirty", r.described));
        assert_eq!(dirty.commit.as_deref(), Some(commit.as_str()));
    }
}
