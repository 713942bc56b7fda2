//! Regressions a maintainer is told about: each night's regressions
//! (a result that got worse: see [`Direction::Regressed`]) grouped by
//! engine and cause into clusters, kept open in `regressions.json` until a
//! night on which every case of the cluster is back, or matches a snapshot
//! a maintainer accepted; and the GitHub issue actions that follow (one
//! issue per cluster: opened, updated with the cases that joined it,
//! closed by the night that settles it).
//!
//! The issue actions are computed here and carried out by the workflow
//! with `gh` (see `.github/workflows/nightly.yml`); each issue carries an
//! HTML comment naming its cluster, and each body or comment one naming
//! its night, so running a night's actions again (a re-run) does nothing
//! twice.

use super::diff::{ChangeKind, Direction};
use super::diff_format::md_cell;
use super::history::{LoggedChange, NightEntry};
use super::results::ResultsFile;
use super::status::CaseStatus;
use serde::{Deserialize, Serialize};

/// The file, under the history's root.
pub const REGRESSIONS_FILE: &str = "regressions.json";

/// The label every nightly issue carries.
pub const ISSUE_LABEL: &str = "pmconf-nightly";

/// GitHub refuses issue bodies over 65,536 characters.
const BODY_BUDGET: usize = 60_000;

/// `regressions.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Regressions {
    /// Clusters with a case not fixed yet.
    #[serde(default)]
    pub open: Vec<Cluster>,
    /// Clusters the latest night fixed (kept for one night, so that their
    /// issue is closed).
    #[serde(default)]
    pub closed: Vec<Cluster>,
}

/// Regressions of one engine with one cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// `chromium: engine version 130.0 -> 131.0`.
    pub key: String,
    /// The engine.
    pub engine: String,
    /// The cause, in words.
    pub cause: String,
    /// The night it was opened.
    pub opened: String,
    /// The last night a case joined it.
    pub updated: String,
    /// The night that fixed its last case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
    /// Its cases, in the order they regressed.
    pub cases: Vec<ClusterCase>,
}

/// One regressed case of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterCase {
    /// The case.
    pub case: String,
    /// The night it regressed.
    pub night: String,
    /// The engine's night before.
    pub previous: String,
    /// How it regressed.
    pub kind: ChangeKind,
    /// Its status before.
    pub from: Option<CaseStatus>,
    /// Its status then.
    pub to: Option<CaseStatus>,
    /// The snapshot diff (accepted to observed), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_diff: Option<String>,
    /// The known-divergence link, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
    /// The night it came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
}

/// Whether a case that regressed from `from` is settled, now that its
/// status is `now`: as it was, or matching its accepted snapshot and not
/// flaky (fixed, or its new behaviour accepted by a maintainer, who files
/// the engine's bug in known-divergences.yaml), or no longer run at all.
fn recovered(from: Option<&CaseStatus>, now: Option<&CaseStatus>) -> bool {
    match now {
        None => true,
        Some(now) => Some(now) == from || (!now.flaky && !now.unexpected),
    }
}

impl Regressions {
    /// Notes `night`: the cases of the engines that took part (`present`,
    /// results `new`) that are back are fixed, the regressions `logged`
    /// tonight join their cluster (or open one), and a cluster whose every
    /// case is fixed is closed.
    pub fn update(
        &mut self,
        night: &str,
        logged: &[LoggedChange],
        new: &ResultsFile,
        present: &[String],
    ) {
        self.closed.clear();
        for cluster in &mut self.open {
            if !present.contains(&cluster.engine) {
                continue;
            }
            for c in cluster.cases.iter_mut().filter(|c| c.fixed.is_none()) {
                let now = new.result(&cluster.engine, &c.case).map(CaseStatus::of);
                if recovered(c.from.as_ref(), now.as_ref()) {
                    c.fixed = Some(night.to_owned());
                }
            }
        }
        for l in logged
            .iter()
            .filter(|l| l.change.kind.direction() == Direction::Regressed)
        {
            let c = &l.change;
            let cause: Vec<String> = c.causes.iter().map(|x| x.words()).collect();
            let cause = cause.join(", ");
            let key = format!("{}: {cause}", c.engine);
            let case = ClusterCase {
                case: c.case.clone(),
                night: night.to_owned(),
                previous: l.previous.clone(),
                kind: c.kind,
                from: c.from.clone(),
                to: c.to.clone(),
                snapshot_diff: c.snapshot_diff.clone(),
                known: c.known.clone(),
                fixed: None,
            };
            match self.open.iter_mut().find(|x| x.key == key) {
                Some(cluster) => {
                    cluster.cases.retain(|x| x.case != case.case);
                    cluster.cases.push(case);
                    cluster.updated = night.to_owned();
                }
                None => self.open.push(Cluster {
                    key,
                    engine: c.engine.clone(),
                    cause,
                    opened: night.to_owned(),
                    updated: night.to_owned(),
                    closed: None,
                    cases: vec![case],
                }),
            }
        }
        let (closed, open): (Vec<Cluster>, Vec<Cluster>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|c| c.cases.iter().all(|x| x.fixed.is_some()));
        self.open = open;
        self.closed = closed
            .into_iter()
            .map(|mut c| {
                c.closed = Some(night.to_owned());
                c
            })
            .collect();
    }
}

/// An issue as `gh issue list --json number,body,comments` prints it.
#[derive(Debug, Clone, Deserialize)]
pub struct ExistingIssue {
    /// Its number.
    pub number: u64,
    /// Its body.
    #[serde(default)]
    pub body: String,
    /// Its comments.
    #[serde(default)]
    pub comments: Vec<ExistingComment>,
}

/// A comment of an [`ExistingIssue`].
#[derive(Debug, Clone, Deserialize)]
pub struct ExistingComment {
    /// Its body.
    #[serde(default)]
    pub body: String,
}

/// What to do on GitHub for one cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum IssueAction {
    /// Open an issue.
    Create {
        /// Its title.
        title: String,
        /// Its body (Markdown).
        body: String,
    },
    /// Comment on the cluster's open issue: cases joined it.
    Comment {
        /// The issue.
        number: u64,
        /// The comment.
        body: String,
    },
    /// Comment on the cluster's open issue and close it: fixed.
    Close {
        /// The issue.
        number: u64,
        /// The closing comment.
        body: String,
    },
}

fn cluster_marker(key: &str) -> String {
    format!(
        "<!-- pmconf-nightly-regression: {} -->",
        key.replace("--", "- -")
    )
}

fn night_marker(night: &str) -> String {
    format!("<!-- pmconf-night: {night} -->")
}

/// The actions the latest night (`latest`) calls for, given the open
/// issues labelled [`ISSUE_LABEL`]: a cluster opened or grown tonight
/// gets an issue or a comment, a cluster closed tonight gets its issue
/// closed; an issue that already names tonight is left alone.
pub fn issue_actions(
    regressions: &Regressions,
    latest: &NightEntry,
    existing: &[ExistingIssue],
    site: Option<&str>,
) -> Vec<IssueAction> {
    let night = &latest.night;
    let find = |key: &str| {
        let marker = cluster_marker(key);
        existing.iter().find(|i| i.body.contains(&marker))
    };
    let told_tonight = |issue: &ExistingIssue| {
        let marker = night_marker(night);
        issue.body.contains(&marker) || issue.comments.iter().any(|c| c.body.contains(&marker))
    };
    let mut out = Vec::new();
    for cluster in regressions.open.iter().filter(|c| &c.updated == night) {
        match find(&cluster.key) {
            None => out.push(IssueAction::Create {
                title: title(cluster),
                body: body(cluster, latest, site, true),
            }),
            Some(issue) if told_tonight(issue) => {}
            Some(issue) => out.push(IssueAction::Comment {
                number: issue.number,
                body: body(cluster, latest, site, false),
            }),
        }
    }
    for cluster in regressions
        .closed
        .iter()
        .filter(|c| c.closed.as_ref() == Some(night))
    {
        if let Some(issue) = find(&cluster.key).filter(|i| !told_tonight(i)) {
            out.push(IssueAction::Close {
                number: issue.number,
                body: format!(
                    "{}\nSettled on night {}: every case of this regression is back, or its new behaviour was accepted.\n",
                    night_marker(night),
                    night_link(latest)
                ),
            });
        }
    }
    out
}

fn title(cluster: &Cluster) -> String {
    let n = cluster.cases.len();
    let mut t = format!(
        "Nightly regression in {}: {n} case{} ({})",
        cluster.engine,
        if n == 1 { "" } else { "s" },
        cluster.cause
    );
    if t.chars().count() > 250 {
        t = t.chars().take(249).collect::<String>() + "…";
    }
    t
}

fn night_link(entry: &NightEntry) -> String {
    match &entry.run_link {
        Some(link) => format!("[{}]({link})", entry.night),
        None => entry.night.clone(),
    }
}

fn label(status: &Option<CaseStatus>) -> String {
    status.as_ref().map_or("(none)".into(), CaseStatus::label)
}

/// The issue body (`first`) or an update comment of `cluster`.
fn body(cluster: &Cluster, latest: &NightEntry, site: Option<&str>, first: bool) -> String {
    let night = &latest.night;
    let mut out = String::new();
    if first {
        out.push_str(&cluster_marker(&cluster.key));
        out.push('\n');
    }
    out.push_str(&night_marker(night));
    out.push('\n');
    let joined = cluster.cases.iter().filter(|c| &c.night == night).count();
    if first {
        out.push_str(&format!(
            "**{}** regressed on night {} (cause: {}).\n\n",
            md_cell(&cluster.engine),
            night_link(latest),
            md_cell(&cluster.cause)
        ));
    } else {
        out.push_str(&format!(
            "Night {}: {joined} more case{} regressed with this cause.\n\n",
            night_link(latest),
            if joined == 1 { "" } else { "s" }
        ));
    }
    out.push_str("| case | before | now | regressed on | fixed on |\n|---|---|---|---|---|\n");
    for c in &cluster.cases {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            md_cell(&c.case),
            md_cell(&label(&c.from)),
            md_cell(&label(&c.to)),
            md_cell(&c.night),
            md_cell(c.fixed.as_deref().unwrap_or(""))
        ));
    }
    for c in cluster.cases.iter().filter(|c| &c.night == night) {
        if let Some(known) = &c.known {
            out.push_str(&format!("\n`{}`: known, {}\n", md_cell(&c.case), known));
        }
        let Some(diff) = &c.snapshot_diff else {
            continue;
        };
        let block = format!(
            "\n<details><summary><code>{}</code>: snapshot diff (accepted to observed)</summary>\n\n```diff\n{}```\n\n</details>\n",
            crate::report::html_escape(&c.case),
            diff.replace("```", "` ` `")
        );
        if out.len() + block.len() > BODY_BUDGET {
            out.push_str("\nMore snapshot diffs are in the run's artifacts.\n");
            break;
        }
        out.push_str(&block);
    }
    if let Some(site) = site {
        out.push_str(&format!("\nThe nightly site: {site}\n"));
    }
    if first {
        out.push_str("\nIf the new behaviour is right, review and accept the snapshots the night left (its `results-<engine>` artifact, `pmconf review --from`); if it is a bug of the engine, file it and add the link to `known-divergences.yaml`. This issue is closed by the night on which every case above is back or its new snapshot accepted.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nightly::status::Status;

    fn status(s: Status, unexpected: bool) -> Option<CaseStatus> {
        Some(CaseStatus {
            status: s,
            flaky: false,
            unexpected,
        })
    }

    #[test]
    fn a_case_is_settled_when_as_before_or_as_its_accepted_snapshot_says() {
        let diverges = || Status::Diverges {
            divergence: vec!["x".into()],
        };
        let conforms = status(Status::Conforms, false);
        assert!(recovered(conforms.as_ref(), conforms.as_ref()));
        assert!(recovered(
            status(diverges(), false).as_ref(),
            status(diverges(), false).as_ref()
        ));
        assert!(!recovered(
            conforms.as_ref(),
            status(diverges(), true).as_ref()
        ));
        // The divergence's snapshot accepted: a maintainer has seen it.
        assert!(recovered(
            conforms.as_ref(),
            status(diverges(), false).as_ref()
        ));
        let flaky = CaseStatus {
            status: Status::Conforms,
            flaky: true,
            unexpected: false,
        };
        assert!(!recovered(conforms.as_ref(), Some(&flaky)));
        assert!(!recovered(
            conforms.as_ref(),
            status(Status::Conforms, true).as_ref()
        ));
        assert!(recovered(conforms.as_ref(), None), "no longer run");
    }
}
