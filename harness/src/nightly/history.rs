//! The history of nights, in a directory the nightly workflow commits to a
//! `data` branch (git keeps it small and permanent; artifacts expire):
//!
//! ```text
//! DATA/nights.json                      index: every night, in order: id, attempt, start,
//!                                       revision, run link, per-engine counts or why the
//!                                       engine was absent, interop score, changes per engine
//! DATA/nights/<night>.json              the index entry, the package versions and the run block
//! DATA/results/<engine>/<case>.json     the engine's result of the case on the last night
//!                                       it took part in (with the case file's digest)
//! DATA/timelines/<case>.json            per engine, the nights the case's status changed
//! DATA/changes.jsonl                    append-only log: one JSON line per change
//! DATA/regressions.json                 regressions not fixed yet, grouped by engine and cause
//! DATA/undo/                            what the last night replaced (see store.rs)
//! ```
//!
//! Nothing in it is a full copy of a night: a result that did not change
//! keeps its file byte for byte (no durations are stored in it), so git
//! stores it once, and a timeline changes only when its case's status
//! does. What grows with every night is one index entry and one small
//! `nights/<night>.json`.
//!
//! A night is recorded once per id ([`History::record`]); recording the
//! latest night's id again (a re-run of its workflow run) replaces it.
//! An engine without results on a night is recorded as absent, with the
//! reason; its results stay those of the last night it took part in, and
//! the next night is compared with those.

use super::diff::{diff, Change, Digests, EngineDelta, EngineDigests, NightDiff, Side};
use super::order::in_engine_order;
use super::regressions::Regressions;
use super::results::ResultsFile;
use super::status::{CaseStatus, Status};
use super::store::{self, checked_case_path, Journal};
use super::timeline::CaseTimeline;
use super::NightlyError;
use crate::known::KnownDivergences;
use crate::run::events::{CaseResult, EngineInfo};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `format` of `nights.json`.
pub const HISTORY_FORMAT: &str = "pmconf-history/2";

/// The change log, under the history's root.
pub const CHANGES_FILE: &str = "changes.jsonl";

/// One engine on one night it took part in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineNight {
    /// Its browser version, when its session came up.
    pub version: Option<String>,
    /// Seconds it spent on cases.
    pub seconds: f64,
    /// Results that conform.
    pub conforms: usize,
    /// Results that are contested (not counted in `conforms`, nor as
    /// divergences).
    pub contested: usize,
    /// Results that diverge.
    pub diverges: usize,
    /// Of those, divergences whose accepted snapshot records them
    /// (*accepted*; *known* is for the links of known-divergences.yaml).
    pub accepted: usize,
    /// Results that did not conclude.
    pub unconcluded: usize,
    /// Flaky results.
    pub flaky: usize,
    /// All results.
    pub total: usize,
}

/// Why an engine has no results on a night.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Absent {
    /// Why (the setup failure, or what the workflow said).
    pub reason: String,
    /// Where to read more (the run's or the job's page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// A night in the index (`nights.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightEntry {
    /// The night's id: the workflow run (`run-<id>`), or a date.
    pub night: String,
    /// The workflow run's attempt that recorded it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// When its run started (`run.started_at` of the results).
    pub started_at: Option<String>,
    /// The same, in milliseconds since the Unix epoch.
    pub started_unix_ms: Option<u64>,
    /// The pmconf revision that ran.
    pub revision: Option<String>,
    /// The CI run's link.
    pub run_link: Option<String>,
    /// The engines that took part: version, time, counts.
    pub engines: BTreeMap<String, EngineNight>,
    /// The engines expected that did not take part, and why.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub absent: BTreeMap<String, Absent>,
    /// Interop score: percent of cases every engine that took part
    /// conforms on (contested results do not count as conforming).
    pub interop_score: f64,
    /// Per engine, what changed against the last night it took part in.
    #[serde(default)]
    pub deltas: Vec<EngineDelta>,
}

impl NightEntry {
    /// The engines that took part, in engine order.
    pub fn engine_names(&self) -> Vec<&str> {
        in_engine_order(self.engines.keys().map(String::as_str))
    }
}

/// `nights/<night>.json`: the index entry and what only that night needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightMeta {
    /// The index entry.
    #[serde(flatten)]
    pub entry: NightEntry,
    /// Package versions of the machine (Debian's, e.g. `chromium`).
    #[serde(default)]
    pub packages: BTreeMap<String, String>,
    /// The merged results' `run` block.
    #[serde(default)]
    pub run: Map<String, Value>,
}

/// `results/<engine>/<case>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResult {
    /// The case file's digest on that night, when known.
    pub digest: Option<String>,
    /// The result, its duration left out (0): it changes every night.
    pub result: CaseResult,
}

/// `nights.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Index {
    format: String,
    nights: Vec<NightEntry>,
}

/// One line of `changes.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedChange {
    /// The night it was seen on.
    pub night: String,
    /// The last night before it that the engine took part in.
    pub previous: String,
    /// The change.
    #[serde(flatten)]
    pub change: Change,
}

/// What to record for a night.
pub struct NightInput {
    /// Its id.
    pub night: String,
    /// The workflow run's attempt, when known: a re-run replaces the night
    /// it recorded before, never with an older attempt.
    pub attempt: Option<u32>,
    /// Its merged results.
    pub results: ResultsFile,
    /// The pmconf revision (else `run.revision`).
    pub revision: Option<String>,
    /// The CI run's link.
    pub run_link: Option<String>,
    /// Package versions.
    pub packages: BTreeMap<String, String>,
    /// Case file digests.
    pub cases: Digests,
    /// The engines that should have taken part (default: those of the
    /// latest night, present or absent), and any with a setup failure.
    pub expected_engines: Vec<String>,
    /// Why an engine is absent, when the caller knows.
    pub absent_reasons: BTreeMap<String, String>,
}

/// What recording a night did.
pub struct Recorded {
    /// The changes logged.
    pub changes: Vec<LoggedChange>,
    /// Whether it replaced an earlier recording of the same night.
    pub replaced: bool,
    /// The night against each engine's last night.
    pub diff: NightDiff,
    /// The engines recorded as absent.
    pub absent: BTreeMap<String, Absent>,
}

/// The latest state of a history: each engine's results on the last night
/// it took part in.
pub struct Current {
    /// Those results (durations 0), engines with those nights' versions.
    pub results: ResultsFile,
    /// The case file digests they were run with.
    pub digests: EngineDigests,
    /// Each engine's last night.
    pub last_night: BTreeMap<String, String>,
}

/// The latest night as recorded: what the summary and the site show.
pub struct LatestNight {
    /// Its metadata (index entry, packages, run block).
    pub meta: NightMeta,
    /// The results of the engines that took part (durations 0), with the
    /// night's run block.
    pub results: ResultsFile,
    /// Its changes against each engine's last night before, when there was
    /// a night before.
    pub diff: Option<NightDiff>,
}

/// Per engine, its counts in `results`.
pub fn engine_nights(results: &ResultsFile) -> BTreeMap<String, EngineNight> {
    let mut engines = BTreeMap::new();
    for engine in results.engines_with_results() {
        let mut e = EngineNight {
            version: results.browser_version(engine).map(String::from),
            seconds: (results.engine_seconds(engine) * 10.0).round() / 10.0,
            conforms: 0,
            contested: 0,
            diverges: 0,
            accepted: 0,
            unconcluded: 0,
            flaky: 0,
            total: 0,
        };
        for result in results.results.iter().filter(|x| x.engine == engine) {
            e.total += 1;
            let status = CaseStatus::of(result);
            match status.status {
                Status::Conforms => e.conforms += 1,
                Status::Contested => e.contested += 1,
                Status::Diverges { .. } => e.diverges += 1,
                Status::Unconcluded { .. } => e.unconcluded += 1,
            }
            e.accepted += usize::from(status.is_accepted_divergence());
            e.flaky += usize::from(status.flaky);
        }
        engines.insert(engine.to_owned(), e);
    }
    engines
}

/// Percent of cases on which every engine with results conforms (one
/// decimal). An engine without results (absent) does not count. A
/// contested result does not count: the engines do something an open
/// issue of the HTML Standard leaves unsettled, which is not interop yet
/// (nor a divergence: it is counted apart).
pub fn interop_score(results: &ResultsFile) -> f64 {
    let engines = results.engines_with_results();
    let cases = results.cases();
    if cases.is_empty() || engines.is_empty() {
        return 0.0;
    }
    let all = cases
        .iter()
        .filter(|case| {
            engines.iter().all(|e| {
                results
                    .result(e, case)
                    .is_some_and(|r| Status::of(r) == Status::Conforms)
            })
        })
        .count();
    (all as f64 * 1000.0 / cases.len() as f64).round() / 10.0
}

/// A history directory.
pub struct History {
    /// Its root.
    pub root: PathBuf,
    /// Its nights, oldest first.
    pub nights: Vec<NightEntry>,
}

impl History {
    /// Opens `root`; a missing or empty directory is an empty history.
    pub fn open(root: &Path) -> Result<Self, NightlyError> {
        let index = root.join("nights.json");
        if !index.exists() {
            let empty = !root.exists()
                || std::fs::read_dir(root)
                    .map_err(|e| NightlyError::read(root, e))?
                    .flatten()
                    .all(|e| e.file_name().to_string_lossy().starts_with('.'));
            if !empty {
                return Err(NightlyError::corrupt(
                    root,
                    "has files but no nights.json: not a pmconf history",
                    "point at the directory `pmconf report record` writes (the data branch's checkout), or an empty one",
                ));
            }
            return Ok(History {
                root: root.to_path_buf(),
                nights: vec![],
            });
        }
        let text = std::fs::read_to_string(&index).map_err(|e| NightlyError::read(&index, e))?;
        let format = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("format").and_then(Value::as_str).map(String::from));
        if let Some(format) = format.filter(|f| f != HISTORY_FORMAT) {
            return Err(NightlyError::corrupt(
                &index,
                format!("format is {format:?}, this pmconf reads {HISTORY_FORMAT:?}"),
                "use the pmconf that wrote this history, or start a new one (an empty data branch)",
            ));
        }
        let parsed: Index = serde_json::from_str(&text).map_err(|e| NightlyError::Corrupt {
            path: index.clone(),
            location: Some((e.line(), e.column())),
            message: format!("malformed history index: {e}"),
            fix: "restore it from the data branch (git checkout data -- nights.json)".into(),
        })?;
        Ok(History {
            root: root.to_path_buf(),
            nights: parsed.nights,
        })
    }

    /// A night's metadata file.
    pub fn night_path(&self, night: &str) -> PathBuf {
        self.root.join(night_file(night))
    }

    /// A night's full metadata (with packages and the run block).
    pub fn meta(&self, night: &str) -> Result<NightMeta, NightlyError> {
        read_json(&self.night_path(night), "restore it from the data branch")
    }

    /// The latest night, when there is one.
    pub fn latest(&self) -> Option<&NightEntry> {
        self.nights.last()
    }

    /// The latest night, or an error saying the history holds none.
    pub fn latest_or_error(&self) -> Result<&NightEntry, NightlyError> {
        self.latest().ok_or_else(|| NightlyError::Usage {
            message: format!("{} holds no night", self.root.display()),
            fix:
                "record a night first: pmconf report record DATA --night ID --results results.json"
                    .into(),
        })
    }

    /// The latest night as recorded: its results (of the engines that took
    /// part) and its logged changes.
    pub fn latest_night(&self) -> Result<LatestNight, NightlyError> {
        let entry = self.latest_or_error()?;
        let meta = self.meta(&entry.night)?;
        let mut results = self.current()?.results;
        results
            .results
            .retain(|r| entry.engines.contains_key(&r.engine));
        results
            .engines
            .retain(|e| entry.engines.contains_key(&e.engine));
        results.run = meta.run.clone();
        let diff = match self.nights.iter().rev().nth(1) {
            Some(previous) => Some(NightDiff {
                old: previous.night.clone(),
                new: entry.night.clone(),
                engines: entry.deltas.clone(),
                changes: self
                    .changes()?
                    .into_iter()
                    .filter(|c| c.night == entry.night)
                    .map(|c| c.change)
                    .collect(),
            }),
            None => None,
        };
        Ok(LatestNight {
            meta,
            results,
            diff,
        })
    }

    /// Each engine's results on the last night it took part in.
    pub fn current(&self) -> Result<Current, NightlyError> {
        let mut results = ResultsFile::empty(self.root.join("results"));
        let mut digests = EngineDigests::new();
        let dir = self.root.join("results");
        let mut files = Vec::new();
        if dir.is_dir() {
            walk(&dir, &mut files)?;
        }
        files.sort();
        for file in files {
            let stored: StoredResult = read_json(&file, "restore it from the data branch")?;
            if let Some(d) = &stored.digest {
                digests
                    .entry(stored.result.engine.clone())
                    .or_default()
                    .insert(stored.result.case.clone(), d.clone());
            }
            results.results.push(stored.result);
        }
        let mut last_night = BTreeMap::new();
        let engines: Vec<String> = results
            .engines_with_results()
            .into_iter()
            .map(String::from)
            .collect();
        for engine in &engines {
            let Some(entry) = self
                .nights
                .iter()
                .rev()
                .find(|n| n.engines.contains_key(engine))
            else {
                continue;
            };
            last_night.insert(engine.clone(), entry.night.clone());
            if let Some(version) = entry.engines[engine].version.clone() {
                results.engines.push(EngineInfo {
                    engine: engine.clone(),
                    browser_version: version,
                });
            }
        }
        Ok(Current {
            results,
            digests,
            last_night,
        })
    }

    /// The stored timeline of `case`, when a night ran it.
    pub fn timeline(&self, case: &str) -> Result<Option<CaseTimeline>, NightlyError> {
        let path = self.root.join(timeline_file(case));
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path, "restore it from the data branch").map(Some)
    }

    /// Every stored timeline, by case.
    pub fn timelines(&self) -> Result<BTreeMap<String, CaseTimeline>, NightlyError> {
        let dir = self.root.join("timelines");
        let mut files = Vec::new();
        if dir.is_dir() {
            walk(&dir, &mut files)?;
        }
        let mut out = BTreeMap::new();
        for file in files {
            let t: CaseTimeline = read_json(&file, "restore it from the data branch")?;
            out.insert(t.case.clone(), t);
        }
        Ok(out)
    }

    /// The open regressions (and those the latest night closed).
    pub fn regressions(&self) -> Result<Regressions, NightlyError> {
        let path = self.root.join(super::regressions::REGRESSIONS_FILE);
        if !path.exists() {
            return Ok(Regressions::default());
        }
        read_json(&path, "restore it from the data branch")
    }

    /// Every logged change, oldest first.
    pub fn changes(&self) -> Result<Vec<LoggedChange>, NightlyError> {
        let path = self.root.join(CHANGES_FILE);
        if !path.exists() {
            return Ok(vec![]);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| NightlyError::read(&path, e))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| NightlyError::Corrupt {
                    path: path.clone(),
                    location: Some((i + 1, e.column())),
                    message: format!("malformed change: {e}"),
                    fix: "restore it from the data branch (the log is append-only)".into(),
                })
            })
            .collect()
    }

    /// Records a night: the results of the engines that took part replace
    /// their stored ones, timelines note what changed, the changes against
    /// each engine's last night go to the change log, the regressions are
    /// updated, the index gets the night. The latest night's id again
    /// replaces it (a re-run of its workflow run; an older attempt is
    /// refused); an earlier night's id is refused. Nothing partial is left
    /// on failure.
    pub fn record(
        &mut self,
        input: NightInput,
        known: &KnownDivergences,
    ) -> Result<Recorded, NightlyError> {
        check_night_id(&input.night)?;
        for r in &input.results.results {
            checked_case_path(&r.case, &input.results.path)?;
            if check_night_id(&r.engine).is_err() {
                return Err(NightlyError::corrupt(
                    &input.results.path,
                    format!("engine {:?} is not a plain name", r.engine),
                    "engine names are words like chromium, as `pmconf run` writes them",
                ));
            }
        }
        let mut replaced = false;
        if let Some(pos) = self.nights.iter().position(|n| n.night == input.night) {
            let last = self.nights.last().expect("found one");
            if pos + 1 != self.nights.len() {
                return Err(NightlyError::Usage {
                    message: format!(
                        "night {:?} is recorded already, and night {:?} after it",
                        input.night, last.night
                    ),
                    fix: "only the latest night can be recorded again (a re-run of its workflow run); run the workflow anew instead".into(),
                });
            }
            if let (Some(old), Some(new)) = (last.attempt, input.attempt) {
                if new < old {
                    return Err(NightlyError::Usage {
                        message: format!(
                            "attempt {new} of night {:?} is older than the recorded attempt {old}",
                            input.night
                        ),
                        fix: "record the latest attempt of a workflow run".into(),
                    });
                }
            }
            let journal = store::manifest(&self.root)?
                .filter(|m| m.night == input.night)
                .ok_or_else(|| {
                    NightlyError::corrupt(
                        self.root.join(store::UNDO_DIR),
                        format!("no undo journal for night {:?}", input.night),
                        "restore the data branch's last commit, which holds it",
                    )
                })?;
            store::undo(&self.root, &journal)?;
            *self = History::open(&self.root)?;
            replaced = true;
        }
        let log = self.root.join(CHANGES_FILE);
        let log_bytes = std::fs::metadata(&log).map_or(0, |m| m.len());
        std::fs::create_dir_all(&self.root).map_err(|e| NightlyError::write(&self.root, e))?;
        let mut journal = Journal::begin(&self.root, &input.night, log_bytes)?;
        match self.write_night(&mut journal, input, known) {
            Ok(mut recorded) => {
                journal.commit()?;
                recorded.replaced = replaced;
                Ok(recorded)
            }
            Err(e) => {
                journal.roll_back();
                *self = History::open(&self.root)?;
                Err(e)
            }
        }
    }

    fn write_night(
        &mut self,
        journal: &mut Journal,
        input: NightInput,
        known: &KnownDivergences,
    ) -> Result<Recorded, NightlyError> {
        let night = input.night.clone();
        let new = &input.results;
        let present: Vec<String> = new
            .engines_with_results()
            .into_iter()
            .map(String::from)
            .collect();
        let current = self.current()?;

        // Who should have been there, and why they were not.
        let mut expected = input.expected_engines.clone();
        if expected.is_empty() {
            if let Some(last) = self.latest() {
                expected.extend(last.engines.keys().cloned());
                expected.extend(last.absent.keys().cloned());
            }
        }
        expected.extend(new.setup_failures.iter().map(|f| f.engine.clone()));
        let mut absent = BTreeMap::new();
        for engine in in_engine_order(expected.iter().map(String::as_str)) {
            if present.iter().any(|p| p == engine) {
                continue;
            }
            let reason = input
                .absent_reasons
                .get(engine)
                .cloned()
                .or_else(|| {
                    new.setup_failures
                        .iter()
                        .find(|f| f.engine == engine)
                        .map(|f| {
                            format!(
                                "setup failed: {}",
                                f.error.lines().next().unwrap_or_default()
                            )
                        })
                })
                .unwrap_or_else(|| "no results this night".into());
            absent.insert(
                engine.to_owned(),
                Absent {
                    reason,
                    link: input.run_link.clone(),
                },
            );
        }

        // What changed, each engine against its own last night.
        let new_digests: EngineDigests = present
            .iter()
            .map(|e| (e.clone(), input.cases.clone()))
            .collect();
        let mut d = diff(
            &Side {
                results: &current.results,
                digests: Some(&current.digests),
                name: "each engine's last night".into(),
            },
            &Side {
                results: new,
                digests: (!input.cases.is_empty()).then_some(&new_digests),
                name: night.clone(),
            },
            known,
        );
        for delta in &mut d.engines {
            if let Some(a) = absent.get(&delta.engine) {
                delta.not_compared = Some(format!("absent this night: {}", a.reason));
            } else if delta.not_compared.is_some() && present.contains(&delta.engine) {
                delta.not_compared = Some("first night it took part in".into());
            }
        }
        let logged: Vec<LoggedChange> = d
            .changes
            .iter()
            .map(|change| LoggedChange {
                night: night.clone(),
                previous: current
                    .last_night
                    .get(&change.engine)
                    .cloned()
                    .unwrap_or_default(),
                change: change.clone(),
            })
            .collect();

        // Stored results: the engines that took part replace theirs.
        for engine in &present {
            let mut cases_now = std::collections::BTreeSet::new();
            for r in new.results.iter().filter(|r| &r.engine == engine) {
                cases_now.insert(r.case.as_str());
                let stored = StoredResult {
                    digest: input.cases.get(&r.case).cloned(),
                    result: CaseResult {
                        duration_ms: 0,
                        ..r.clone()
                    },
                };
                journal.write(&result_file(engine, &r.case), &to_text(&stored))?;
            }
            for old in current
                .results
                .results
                .iter()
                .filter(|r| &r.engine == engine)
            {
                if !cases_now.contains(old.case.as_str()) {
                    journal.remove(&result_file(engine, &old.case))?;
                }
            }
        }

        // Timelines: only the cases whose status changed are written.
        let mut cases: Vec<&str> = current
            .results
            .results
            .iter()
            .filter(|r| present.contains(&r.engine))
            .chain(&new.results)
            .map(|r| r.case.as_str())
            .collect();
        cases.sort_unstable();
        cases.dedup();
        for case in cases {
            let mut t = self
                .timeline(case)?
                .unwrap_or_else(|| CaseTimeline::new(case));
            let mut changed = false;
            for engine in &present {
                let status = new.result(engine, case).map(CaseStatus::of);
                changed |= t.note(&night, engine, status);
            }
            if changed {
                journal.write(&timeline_file(case), &to_text(&t))?;
            }
        }

        // The night itself.
        let entry = NightEntry {
            night: night.clone(),
            attempt: input.attempt,
            started_at: new.info("started_at").map(String::from),
            started_unix_ms: new.started_unix_ms(),
            revision: input
                .revision
                .clone()
                .or_else(|| new.info("revision").map(String::from)),
            run_link: input.run_link.clone(),
            engines: engine_nights(new),
            absent: absent.clone(),
            interop_score: interop_score(new),
            deltas: d.engines.clone(),
        };
        let meta = NightMeta {
            entry: entry.clone(),
            packages: input.packages.clone(),
            run: new.run.clone(),
        };
        journal.write(&night_file(&night), &to_text(&meta))?;

        // The change log (the journal knows its length before).
        let log = self.root.join(CHANGES_FILE);
        let mut lines = String::new();
        for change in &logged {
            lines.push_str(&serde_json::to_string(change).expect("changes serialize"));
            lines.push('\n');
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(lines.as_bytes()))
            .map_err(|e| NightlyError::write(&log, e))?;

        // Regressions: opened, grown, or closed by tonight.
        let mut regressions = self.regressions()?;
        regressions.update(&night, &logged, new, &present);
        journal.write(super::regressions::REGRESSIONS_FILE, &to_text(&regressions))?;

        self.nights.push(entry);
        let index = Index {
            format: HISTORY_FORMAT.into(),
            nights: self.nights.clone(),
        };
        journal.write("nights.json", &to_text(&index))?;
        Ok(Recorded {
            changes: logged,
            replaced: false,
            diff: d,
            absent,
        })
    }
}

/// `nights/<night>.json`.
fn night_file(night: &str) -> String {
    format!("nights/{night}.json")
}

/// `results/<engine>/<case>.json`.
fn result_file(engine: &str, case: &str) -> String {
    format!("results/{engine}/{case}.json")
}

/// `timelines/<case>.json`.
fn timeline_file(case: &str) -> String {
    format!("timelines/{case}.json")
}

/// Pretty JSON with a final line break.
fn to_text<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("history data serializes");
    text.push('\n');
    text
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, fix: &str) -> Result<T, NightlyError> {
    let text = std::fs::read_to_string(path).map_err(|e| NightlyError::read(path, e))?;
    serde_json::from_str(&text).map_err(|e| NightlyError::Corrupt {
        path: path.to_path_buf(),
        location: Some((e.line(), e.column())),
        message: format!("malformed history file: {e}"),
        fix: fix.into(),
    })
}

/// Every `*.json` file under `dir`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), NightlyError> {
    for entry in std::fs::read_dir(dir).map_err(|e| NightlyError::read(dir, e))? {
        let path = entry.map_err(|e| NightlyError::read(dir, e))?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// A night id is a file name: letters, digits, `.`, `_`, `-`, not
/// starting with `.`.
fn check_night_id(night: &str) -> Result<(), NightlyError> {
    let ok = !night.is_empty()
        && !night.starts_with('.')
        && night
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(NightlyError::Usage {
            message: format!("{night:?} is not a night id"),
            fix: "use letters, digits, '.', '_' and '-', e.g. run-123456 or 2026-11-29".into(),
        })
    }
}

/// FNV-1a (64 bits) of each `*.yaml` case file under `dir`, keyed by its
/// path as `pmconf run dir` names the case (`dir/sub/x.yaml`).
pub fn case_digests(dir: &Path) -> Result<Digests, NightlyError> {
    let files = crate::case_files::find_case_files(&[dir.to_path_buf()]).map_err(|errors| {
        NightlyError::corrupt(
            dir,
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            "point --cases at the directory the night ran (e.g. cases)",
        )
    })?;
    let mut out = Digests::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|e| NightlyError::read(&file, e))?;
        let name = file.to_string_lossy().replace('\\', "/");
        out.insert(name, format!("{:016x}", fnv1a(&bytes)));
    }
    Ok(out)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Reads package versions from `dpkg-query -W -f '${Package}\t${Version}\n'`
/// output (one `name<TAB>version` per line).
pub fn parse_packages(path: &Path) -> Result<BTreeMap<String, String>, NightlyError> {
    let text = std::fs::read_to_string(path).map_err(|e| NightlyError::read(path, e))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, version)) = line.split_once('\t') else {
            return Err(NightlyError::Corrupt {
                path: path.to_path_buf(),
                location: Some((i + 1, 1)),
                message: format!("{line:?} is not `package<TAB>version`"),
                fix: "write it with dpkg-query -W -f '${Package}\\t${Version}\\n' PACKAGES".into(),
            });
        };
        out.insert(name.trim().to_owned(), version.trim().to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn night_ids_are_file_names() {
        assert!(check_night_id("2026-11-29").is_ok());
        assert!(check_night_id("run-12345678901").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", ".."] {
            assert!(check_night_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fnv1a_matches_its_published_vectors() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x85944171f73967e8);
    }
}
