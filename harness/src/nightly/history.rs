//! The history of nights, in a directory the nightly workflow commits to a
//! `data` branch (git keeps it small and permanent; artifacts expire):
//!
//! ```text
//! DATA/nights.json                  index: every night, in order, with per-engine counts
//! DATA/changes.jsonl                append-only log: one JSON line per status change
//! DATA/nights/<night>/results.json  that night's merged results
//! DATA/nights/<night>/night.json    revision, run link, engine and package versions,
//!                                   time per engine, counts, case file digests
//! ```
//!
//! A night is recorded once (`pmconf report record`), after the last one;
//! nothing recorded is ever rewritten but the index.

use super::diff::{diff, Change, Digests, Side};
use super::results::ResultsFile;
use super::status::Status;
use super::NightlyError;
use crate::known::KnownDivergences;
use crate::report::write_atomically;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `format` of `nights.json`.
pub const HISTORY_FORMAT: &str = "pmconf-history/1";

/// One engine on one night.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineNight {
    /// Its browser version, when its session came up.
    pub version: Option<String>,
    /// Seconds it spent on cases.
    pub seconds: f64,
    /// Results that conform.
    pub conforms: usize,
    /// Results that are contested (not counted in `conforms`, nor as
    /// divergences); 0 in histories written before it was counted.
    #[serde(default)]
    pub contested: usize,
    /// Results that diverge.
    pub diverges: usize,
    /// Results that did not conclude.
    pub unconcluded: usize,
    /// Flaky results.
    pub flaky: usize,
    /// All results.
    pub total: usize,
}

/// What a night's `night.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightMeta {
    /// The night's id (e.g. `2026-11-29`); nights sort by it.
    pub night: String,
    /// The pmconf revision that ran.
    pub revision: Option<String>,
    /// The CI run's link.
    pub run_link: Option<String>,
    /// Per engine: version, time, counts.
    pub engines: BTreeMap<String, EngineNight>,
    /// Interop score: percent of cases every engine run conforms on
    /// (contested results do not count as conforming).
    pub interop_score: f64,
    /// Package versions of the machine (Debian's, e.g. `chromium`).
    #[serde(default)]
    pub packages: BTreeMap<String, String>,
    /// Case file digests, by case path.
    #[serde(default)]
    pub cases: Digests,
}

impl NightMeta {
    /// The index entry: everything but packages and digests.
    fn entry(&self) -> NightMeta {
        NightMeta {
            packages: BTreeMap::new(),
            cases: BTreeMap::new(),
            ..self.clone()
        }
    }
}

/// `nights.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Index {
    format: String,
    nights: Vec<NightMeta>,
}

/// One line of `changes.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedChange {
    /// The night it was seen on.
    pub night: String,
    /// The night before.
    pub previous: String,
    /// The change.
    #[serde(flatten)]
    pub change: Change,
}

/// What to record for a night.
pub struct NightInput {
    /// Its id.
    pub night: String,
    /// Its merged results.
    pub results: ResultsFile,
    /// The pmconf revision (else `run_info.revision`).
    pub revision: Option<String>,
    /// The CI run's link (else `run_info.run_link`).
    pub run_link: Option<String>,
    /// Package versions.
    pub packages: BTreeMap<String, String>,
    /// Case file digests.
    pub cases: Digests,
}

/// The counts and versions of a results file.
pub fn night_meta(input: &NightInput) -> NightMeta {
    let r = &input.results;
    let mut engines = BTreeMap::new();
    for engine in r.engine_names() {
        let mut e = EngineNight {
            version: r.browser_version(engine).map(String::from),
            seconds: (r.engine_seconds(engine) * 10.0).round() / 10.0,
            conforms: 0,
            contested: 0,
            diverges: 0,
            unconcluded: 0,
            flaky: 0,
            total: 0,
        };
        for result in r.results.iter().filter(|x| x.engine == engine) {
            e.total += 1;
            match Status::of(result) {
                Status::Conforms => e.conforms += 1,
                Status::Contested => e.contested += 1,
                Status::Diverges { .. } => e.diverges += 1,
                Status::Unconcluded { .. } => e.unconcluded += 1,
            }
            e.flaky += usize::from(result.is_flaky());
        }
        engines.insert(engine.to_owned(), e);
    }
    NightMeta {
        night: input.night.clone(),
        revision: input
            .revision
            .clone()
            .or_else(|| r.info("revision").map(String::from)),
        run_link: input
            .run_link
            .clone()
            .or_else(|| r.info("run_link").map(String::from)),
        engines,
        interop_score: interop_score(r),
        packages: input.packages.clone(),
        cases: input.cases.clone(),
    }
}

/// Percent of cases on which every engine that ran conforms (one decimal).
/// A contested result does not count: the engines do something an open
/// issue of the HTML Standard leaves unsettled, which is not interop yet
/// (nor a divergence: it is counted apart).
pub fn interop_score(results: &ResultsFile) -> f64 {
    let engines = results.engine_names();
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
    pub nights: Vec<NightMeta>,
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
        let parsed: Index = serde_json::from_str(&text).map_err(|e| NightlyError::Corrupt {
            path: index.clone(),
            location: Some((e.line(), e.column())),
            message: format!("malformed history index: {e}"),
            fix: "restore it from the data branch (git checkout data -- nights.json)".into(),
        })?;
        if parsed.format != HISTORY_FORMAT {
            return Err(NightlyError::corrupt(
                &index,
                format!(
                    "format is {:?}, this pmconf reads {HISTORY_FORMAT:?}",
                    parsed.format
                ),
                "use the pmconf that wrote this history",
            ));
        }
        Ok(History {
            root: root.to_path_buf(),
            nights: parsed.nights,
        })
    }

    /// A night's directory.
    pub fn night_dir(&self, night: &str) -> PathBuf {
        self.root.join("nights").join(night)
    }

    /// A night's results.
    pub fn results(&self, night: &str) -> Result<ResultsFile, NightlyError> {
        ResultsFile::load(&self.night_dir(night).join("results.json"))
    }

    /// A night's full metadata (with packages and digests).
    pub fn meta(&self, night: &str) -> Result<NightMeta, NightlyError> {
        let path = self.night_dir(night).join("night.json");
        let text = std::fs::read_to_string(&path).map_err(|e| NightlyError::read(&path, e))?;
        serde_json::from_str(&text).map_err(|e| NightlyError::Corrupt {
            path,
            location: Some((e.line(), e.column())),
            message: format!("malformed night metadata: {e}"),
            fix: "restore it from the data branch".into(),
        })
    }

    /// Every night's results, oldest first.
    pub fn all_results(&self) -> Result<Vec<ResultsFile>, NightlyError> {
        self.nights.iter().map(|n| self.results(&n.night)).collect()
    }

    /// Records a night: its directory, its changes against the last night
    /// (appended to `changes.jsonl`), and the index. Refuses a night that
    /// is already there or does not sort after the last one. Returns the
    /// changes logged.
    pub fn record(
        &mut self,
        input: NightInput,
        known: &KnownDivergences,
    ) -> Result<Vec<LoggedChange>, NightlyError> {
        check_night_id(&input.night)?;
        if let Some(last) = self.nights.last() {
            if input.night <= last.night {
                return Err(NightlyError::Usage {
                    message: format!(
                        "night {:?} does not come after the last recorded night {:?}",
                        input.night, last.night
                    ),
                    fix: "nights are recorded once, in order: give a later id (e.g. the date, YYYY-MM-DD, or YYYY-MM-DDTHHMM)".into(),
                });
            }
        }
        let dir = self.night_dir(&input.night);
        if dir.exists() {
            return Err(NightlyError::Usage {
                message: format!("{} already exists", dir.display()),
                fix: "a night is recorded once; remove the stray directory if the index does not list it".into(),
            });
        }
        let meta = night_meta(&input);
        let logged = match self.nights.last() {
            Some(previous) => {
                let old_results = self.results(&previous.night)?;
                let old_meta = self.meta(&previous.night)?;
                let old = Side {
                    results: &old_results,
                    digests: (!old_meta.cases.is_empty()).then_some(&old_meta.cases),
                    name: previous.night.clone(),
                };
                let new = Side {
                    results: &input.results,
                    digests: (!meta.cases.is_empty()).then_some(&meta.cases),
                    name: input.night.clone(),
                };
                diff(&old, &new, known)
                    .changes
                    .into_iter()
                    .map(|change| LoggedChange {
                        night: input.night.clone(),
                        previous: previous.night.clone(),
                        change,
                    })
                    .collect()
            }
            None => vec![],
        };
        // The night's directory is written whole in a sibling and renamed.
        let nights = self.root.join("nights");
        std::fs::create_dir_all(&nights).map_err(|e| NightlyError::write(&nights, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".night-")
            .tempdir_in(&nights)
            .map_err(|e| NightlyError::write(&nights, e))?;
        write_json(
            staging.path().join("results.json"),
            &input.results.to_json(),
        )?;
        write_json(staging.path().join("night.json"), &meta)?;
        let staged = staging.keep();
        std::fs::rename(&staged, &dir).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            NightlyError::write(&dir, e)
        })?;
        let undo = |e: NightlyError| {
            let _ = std::fs::remove_dir_all(&dir);
            e
        };
        let log = self.root.join("changes.jsonl");
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
            .map_err(|e| undo(NightlyError::write(&log, e)))?;
        self.nights.push(meta.entry());
        let index = Index {
            format: HISTORY_FORMAT.into(),
            nights: self.nights.clone(),
        };
        write_json(self.root.join("nights.json"), &index).map_err(undo)?;
        Ok(logged)
    }

    /// Every logged change, oldest first, as JSON values.
    pub fn changes(&self) -> Result<Vec<serde_json::Value>, NightlyError> {
        let path = self.root.join("changes.jsonl");
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
}

/// Writes `value` as pretty JSON with a final line break, atomically.
fn write_json<T: Serialize>(path: PathBuf, value: &T) -> Result<(), NightlyError> {
    let mut text = serde_json::to_string_pretty(value).expect("history data serializes");
    text.push('\n');
    write_atomically(&path, text.as_bytes()).map_err(|e| NightlyError::write(&path, e))
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
            fix: "use letters, digits, '.', '_' and '-', e.g. 2026-11-29".into(),
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
        assert!(check_night_id("2026-11-29T0317").is_ok());
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
