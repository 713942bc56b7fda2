//! Known divergences: a metadata file mapping an engine and a case (or a
//! fuzz finding) to a bug tracker link and/or a spec issue, as wpt.fyi's
//! metadata links test results to bugs. Every output that shows a
//! divergence shows its link: the diff, the site, JUnit (as skipped).
//!
//! ```yaml
//! # known-divergences.yaml
//! - engine: firefox                     # chromium, firefox, webkitgtk, or "*"
//!   case: opaque/sandboxed-star.yaml    # a case path as in results files, or:
//!   # finding: blob-wrapped             # a fuzz finding: cases/found/<engine>--blob-wrapped--<hash>.yaml
//!   bug: https://bugzilla.mozilla.org/show_bug.cgi?id=1
//!   spec: https://github.com/whatwg/html/issues/2
//!   note: optional words
//! ```
//!
//! *Known* is kept for these filed links; a divergence whose snapshot was
//! accepted without a link is *accepted*, not known.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A known-divergences file that cannot be read or is malformed; each
/// names the file and says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum KnownError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid list of entries.
    #[error("{}{}: {message}; fix: {fix}", path.display(), location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Line and column, when known.
        location: Option<(usize, usize)>,
        /// What is wrong.
        message: String,
        /// How to fix it.
        fix: String,
    },
}

/// The default metadata file, at the repository root.
pub const KNOWN_DIVERGENCES_FILE: &str = "known-divergences.yaml";

/// One entry of the metadata file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDivergence {
    /// The engine, or `*` for every engine.
    pub engine: String,
    /// A case path, as results files spell it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// A fuzz finding: the part between the engine and the hash of the
    /// names `pmconf fuzz` gives its findings in `cases/found/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// The bug tracker link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bug: Option<String>,
    /// The spec issue link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// Words for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl KnownDivergence {
    /// Whether this entry covers `case` in `engine`.
    pub fn covers(&self, engine: &str, case: &str) -> bool {
        if self.engine != "*" && self.engine != engine {
            return false;
        }
        if let Some(c) = &self.case {
            return c == case || c.strip_prefix("cases/") == Some(case);
        }
        if let Some(finding) = &self.finding {
            let file = case.rsplit('/').next().unwrap_or(case);
            let stem = file.strip_suffix(".yaml").unwrap_or(file);
            let mut parts = stem.splitn(2, "--");
            let _engine = parts.next();
            let rest = parts.next().unwrap_or("");
            return case.contains("found/")
                && rest
                    .rsplit_once("--")
                    .is_some_and(|(shape, _hash)| shape == finding);
        }
        false
    }

    /// The links, bug first: `(label, url)`.
    pub fn links(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        if let Some(bug) = &self.bug {
            out.push(("bug", bug.as_str()));
        }
        if let Some(spec) = &self.spec {
            out.push(("spec issue", spec.as_str()));
        }
        out
    }

    /// One line: `bug <url>, spec issue <url>`.
    pub fn link_text(&self) -> String {
        self.links()
            .iter()
            .map(|(label, url)| format!("{label} {url}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The whole metadata file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnownDivergences {
    /// Its entries, in file order.
    pub entries: Vec<KnownDivergence>,
}

impl KnownDivergences {
    /// No entries.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads `path`.
    pub fn load(path: &Path) -> Result<Self, KnownError> {
        let text = std::fs::read_to_string(path).map_err(|source| KnownError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Reads `path` when given; otherwise the default file when it exists.
    pub fn load_or_default(path: Option<&Path>) -> Result<Self, KnownError> {
        match path {
            Some(p) => Self::load(p),
            None if Path::new(KNOWN_DIVERGENCES_FILE).is_file() => {
                Self::load(Path::new(KNOWN_DIVERGENCES_FILE))
            }
            None => Ok(Self::none()),
        }
    }

    /// Parses `text`, read from `path`, and checks every entry.
    pub fn parse(path: &Path, text: &str) -> Result<Self, KnownError> {
        let entries: Vec<KnownDivergence> = if text.trim().is_empty() {
            vec![]
        } else {
            serde_yaml::from_str(text).map_err(|e| KnownError::Corrupt {
                path: PathBuf::from(path),
                location: e.location().map(|l| (l.line(), l.column())),
                message: format!("not a known-divergences list: {e}"),
                fix: "write a YAML list of {engine, case or finding, bug and/or spec, note}".into(),
            })?
        };
        for (index, entry) in entries.iter().enumerate() {
            let bad = |message: &str, fix: &str| KnownError::Corrupt {
                path: path.to_path_buf(),
                location: None,
                message: format!("entry {}: {message}", index + 1),
                fix: fix.into(),
            };
            if entry.case.is_some() == entry.finding.is_some() {
                return Err(bad(
                    "needs exactly one of `case` and `finding`",
                    "name the case file (as results files spell it) or the fuzz finding",
                ));
            }
            if entry.bug.is_none() && entry.spec.is_none() {
                return Err(bad(
                    "has no link",
                    "add `bug:` (a bug tracker URL) and/or `spec:` (a spec issue URL)",
                ));
            }
            for url in entry.links().iter().map(|(_, u)| u) {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(bad(
                        &format!("{url:?} is not an http(s) URL"),
                        "links are absolute http(s) URLs",
                    ));
                }
            }
        }
        Ok(Self { entries })
    }

    /// The entry covering `case` in `engine`, the first in file order.
    pub fn lookup(&self, engine: &str, case: &str) -> Option<&KnownDivergence> {
        self.entries.iter().find(|e| e.covers(engine, case))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<KnownDivergences, KnownError> {
        KnownDivergences::parse(Path::new("k.yaml"), text)
    }

    #[test]
    fn cases_findings_and_any_engine_match() {
        let known = parse(
            "- {engine: firefox, case: opaque/a.yaml, bug: 'https://b/1'}\n\
             - {engine: '*', finding: blob-wrapped, spec: 'https://s/2'}\n",
        )
        .unwrap();
        assert_eq!(
            known
                .lookup("firefox", "opaque/a.yaml")
                .unwrap()
                .bug
                .as_deref(),
            Some("https://b/1")
        );
        assert!(known.lookup("chromium", "opaque/a.yaml").is_none());
        let finding = known
            .lookup("chromium", "found/chromium--blob-wrapped--332251e4.yaml")
            .unwrap();
        assert_eq!(finding.link_text(), "spec issue https://s/2");
        assert!(known
            .lookup(
                "chromium",
                "found/chromium--blob-wrapped-subdomain--0db3cebb.yaml"
            )
            .is_none());
    }

    #[test]
    fn bad_entries_name_the_file_entry_and_fix() {
        let e = parse("- {engine: firefox, case: a.yaml}\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("k.yaml: entry 1: has no link; fix: add `bug:`"),
            "{e}"
        );
        let e = parse("- {engine: firefox, case: a.yaml, finding: x, bug: 'https://b'}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("exactly one of"), "{e}");
        let e = parse("- {engine: firefox, case: a.yaml, bug: 'bugzilla 1'}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an http(s) URL"), "{e}");
        let e = parse("- {engine: firefox, cas: a.yaml}\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("k.yaml:1:"), "{e}");
    }
}
