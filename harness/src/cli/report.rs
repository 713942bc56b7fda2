//! `pmconf report`: nightly reports from results files and a history.
//!
//! Exit status: 0 done, 1 when `diff --fail-on` or `summary --fail-on` is
//! met, 2 for bad input (the error names the file and the fix; nothing is
//! written).

use super::EXIT_BAD_INPUT;
use crate::atomic::{write_atomically, Dir};
use crate::known::KnownDivergences;
use crate::nightly::diff::{diff, EngineDigests, NightDiff, Side};
use crate::nightly::diff_format::{diff_json, diff_markdown, diff_text};
use crate::nightly::history::{case_digests, parse_packages, History, NightEntry, NightInput};
use crate::nightly::job_summary::{summary_markdown, SummaryInput};
use crate::nightly::merge::merge;
use crate::nightly::regressions::{issue_actions, ExistingIssue, IssueAction};
use crate::nightly::results::ResultsFile;
use crate::nightly::site::{write_site, SiteData};
use crate::nightly::timeline::{timeline_markdown, timeline_text};
use crate::nightly::NightlyError;
use clap::ValueEnum;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a report prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    /// Plain text.
    #[default]
    Text,
    /// Markdown (for job summaries and PR comments).
    Markdown,
    /// JSON.
    Json,
}

/// When `report diff` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    /// Any regression: a result that conformed and diverges, no longer
    /// concludes, or became flaky.
    Regression,
    /// Any change at all.
    Change,
    /// Never.
    #[default]
    Never,
}

/// `pmconf report` and its subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Merge the results files of one night (engines or shards) into one.
    Merge {
        /// Results files.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The merged file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// What changed between two nights: results files, or a history (each
    /// engine's results on the last night it took part in).
    Diff {
        /// The older night.
        old: PathBuf,
        /// The newer night.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: ReportFormat,
        /// Exit 1 on any regression, any change, or never. A snapshot that
        /// stops matching while the verdict stays is a change, not a
        /// regression.
        #[arg(long, value_enum, default_value_t)]
        fail_on: FailOn,
        /// Known divergences (default: known-divergences.yaml when present).
        #[arg(long)]
        known: Option<PathBuf>,
    },
    /// Record a night into a history directory (the data branch). The
    /// latest night's id again replaces that night (a re-run).
    Record {
        /// The history directory.
        data: PathBuf,
        /// The night's id: the workflow run (run-<id>), or a date.
        #[arg(long)]
        night: String,
        /// The workflow run's attempt: a re-run replaces its night, never
        /// with an older attempt.
        #[arg(long)]
        attempt: Option<u32>,
        /// The night's merged results.
        #[arg(long)]
        results: PathBuf,
        /// The pmconf revision (default: the results' run.revision).
        #[arg(long)]
        revision: Option<String>,
        /// The CI run's link.
        #[arg(long)]
        run_link: Option<String>,
        /// Package versions: `dpkg-query -W -f '${Package}\t${Version}\n' ...` output.
        #[arg(long)]
        packages: Option<PathBuf>,
        /// The case directory that ran, to record case file digests.
        #[arg(long)]
        cases: Option<PathBuf>,
        /// The engines that should have taken part, comma-separated
        /// (default: those of the latest night, present or absent); one
        /// without results is recorded as absent.
        #[arg(long, value_delimiter = ',')]
        engines: Vec<String>,
        /// Why an engine is absent: ENGINE=REASON (repeatable).
        #[arg(long, value_parser = parse_absent)]
        absent: Vec<(String, String)>,
        /// Known divergences (default: known-divergences.yaml when present).
        #[arg(long)]
        known: Option<PathBuf>,
    },
    /// A case's timeline per engine, from a history.
    History {
        /// The case, as results files name it (e.g. cases/opaque/x.yaml).
        case: String,
        /// The history directory.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: ReportFormat,
    },
    /// Build the static site of a history.
    Site {
        /// The history directory.
        data: PathBuf,
        /// Where the site goes (replaced whole).
        #[arg(short, long)]
        output: PathBuf,
        /// Known divergences (default: known-divergences.yaml when present).
        #[arg(long)]
        known: Option<PathBuf>,
        /// Repository root to copy case files and reproducers from.
        #[arg(long)]
        sources: Option<PathBuf>,
    },
    /// A night's summary (for $GITHUB_STEP_SUMMARY: Markdown, under 1 MiB):
    /// of a results file, or of a history's latest night.
    Summary {
        /// A results file, or a history directory (its latest night).
        #[arg(default_value = "target/pmconf/results.json")]
        results: PathBuf,
        /// Print Markdown (the only format for now; required for clarity).
        #[arg(long, required = true)]
        markdown: bool,
        /// The night before (results file or history), to list changes and
        /// say how long before it ran (for a results file).
        #[arg(long)]
        previous: Option<PathBuf>,
        /// Exit 1, after printing, on any regression, any change, or never.
        #[arg(long, value_enum, default_value_t)]
        fail_on: FailOn,
        /// Known divergences (default: known-divergences.yaml when present).
        #[arg(long)]
        known: Option<PathBuf>,
    },
    /// The GitHub issue actions a history's latest night calls for (one
    /// issue per regression cluster: open, comment, close), as a plan the
    /// workflow carries out with `gh`: OUT/plan.tsv, one action a line
    /// (`create TITLE-FILE BODY-FILE`, `comment NUMBER BODY-FILE`, `close
    /// NUMBER BODY-FILE`, tab-separated), and the files it names.
    Issues {
        /// The history directory.
        data: PathBuf,
        /// The open nightly issues: `gh issue list --label pmconf-nightly
        /// --state open --json number,body,comments` output.
        #[arg(long)]
        existing: PathBuf,
        /// Where the plan goes (replaced whole).
        #[arg(short, long)]
        output: PathBuf,
        /// The site's address, to link from the issues.
        #[arg(long)]
        site: Option<String>,
    },
}

fn parse_absent(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((engine, reason)) if !engine.trim().is_empty() => {
            Ok((engine.trim().to_owned(), reason.trim().to_owned()))
        }
        _ => Err(format!(
            "{text:?} is not ENGINE=REASON (e.g. webkitgtk=the run job failed)"
        )),
    }
}

/// Runs `pmconf report ...`.
pub fn run(command: ReportCommand) -> i32 {
    match execute(command) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("nothing was written");
            EXIT_BAD_INPUT
        }
    }
}

fn met(d: &NightDiff, fail_on: FailOn) -> bool {
    match fail_on {
        FailOn::Regression => d.has_regression(),
        FailOn::Change => d.has_change(),
        FailOn::Never => false,
    }
}

fn execute(command: ReportCommand) -> Result<i32, NightlyError> {
    match command {
        ReportCommand::Merge { inputs, output } => {
            let files = inputs
                .iter()
                .map(|p| ResultsFile::load(p))
                .collect::<Result<Vec<_>, _>>()?;
            let merged = merge(&files)?;
            write_json(&output, &merged.to_json())?;
            println!(
                "merged {} files: {} results in {} engines -> {}",
                files.len(),
                merged.results.len(),
                merged.engine_names().len(),
                output.display()
            );
            Ok(0)
        }
        ReportCommand::Diff {
            old,
            new,
            format,
            fail_on,
            known,
        } => {
            let known = KnownDivergences::load_or_default(known.as_deref())?;
            let old_side = load_side(&old)?;
            let new_side = load_side(&new)?;
            let d = diff(&old_side.side(&old), &new_side.side(&new), &known);
            match format {
                ReportFormat::Text => print!("{}", diff_text(&d)),
                ReportFormat::Markdown => print!("{}", diff_markdown(&d)),
                ReportFormat::Json => println!("{}", pretty(&diff_json(&d))),
            }
            Ok(i32::from(met(&d, fail_on)))
        }
        ReportCommand::Record {
            data,
            night,
            attempt,
            results,
            revision,
            run_link,
            packages,
            cases,
            engines,
            absent,
            known,
        } => {
            let known = KnownDivergences::load_or_default(known.as_deref())?;
            let input = NightInput {
                night,
                attempt,
                results: ResultsFile::load(&results)?,
                revision,
                run_link,
                packages: match packages {
                    Some(p) => parse_packages(&p)?,
                    None => BTreeMap::new(),
                },
                cases: match cases {
                    Some(c) => case_digests(&c)?,
                    None => BTreeMap::new(),
                },
                expected_engines: engines,
                absent_reasons: absent.into_iter().collect(),
            };
            let mut history = History::open(&data)?;
            let night = input.night.clone();
            let recorded = history.record(input, &known)?;
            println!(
                "{} night {night} in {} ({} nights; {} changes logged{})",
                if recorded.replaced {
                    "recorded again (replacing its earlier attempt)"
                } else {
                    "recorded"
                },
                data.display(),
                history.nights.len(),
                recorded.changes.len(),
                if recorded.absent.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; absent: {}",
                        recorded
                            .absent
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            );
            Ok(0)
        }
        ReportCommand::History { case, data, format } => {
            let history = History::open(&data)?;
            let timelines = history
                .timeline(&case)?
                .map(|t| t.view(&history.nights))
                .unwrap_or_default();
            if timelines.is_empty() && !history.nights.is_empty() {
                return Err(NightlyError::Usage {
                    message: format!("no night in {} ran {case:?}", data.display()),
                    fix: "name the case as results files do, e.g. cases/opaque/x.yaml".into(),
                });
            }
            match format {
                ReportFormat::Text => print!("{}", timeline_text(&case, &timelines)),
                ReportFormat::Markdown => print!("{}", timeline_markdown(&case, &timelines)),
                ReportFormat::Json => println!(
                    "{}",
                    pretty(
                        &serde_json::json!({"format": "pmconf-timeline/1", "case": case, "engines": timelines})
                    )
                ),
            }
            Ok(0)
        }
        ReportCommand::Site {
            data,
            output,
            known,
            sources,
        } => {
            let known = KnownDivergences::load_or_default(known.as_deref())?;
            let history = History::open(&data)?;
            let mut site = SiteData::load(&history, known)?;
            write_site(&mut site, &output, sources.as_deref())?;
            println!(
                "site of {} nights ({} cases) -> {}",
                site.nights.len(),
                site.all_cases().len(),
                output.join("index.html").display()
            );
            Ok(0)
        }
        ReportCommand::Summary {
            results,
            markdown: _,
            previous,
            fail_on,
            known,
        } => {
            let known = KnownDivergences::load_or_default(known.as_deref())?;
            if is_history(&results) {
                return history_summary(&results, &known, fail_on);
            }
            let current = ResultsFile::load(&results)?;
            let mut last = None;
            let d = match &previous {
                Some(p) => {
                    let old = load_side(p)?;
                    last = old.latest.clone();
                    Some(diff(
                        &old.side(p),
                        &Side {
                            results: &current,
                            digests: None,
                            name: results.display().to_string(),
                        },
                        &known,
                    ))
                }
                None => None,
            };
            print!(
                "{}",
                summary_markdown(&SummaryInput {
                    results: &current,
                    diff: d.as_ref(),
                    absent: &BTreeMap::new(),
                    previous: last.as_ref(),
                    commit: None,
                    known: &known,
                })
            );
            Ok(i32::from(d.as_ref().is_some_and(|d| met(d, fail_on))))
        }
        ReportCommand::Issues {
            data,
            existing,
            output,
            site,
        } => {
            let history = History::open(&data)?;
            let latest = history.latest_or_error()?;
            let text =
                std::fs::read_to_string(&existing).map_err(|e| NightlyError::read(&existing, e))?;
            let issues: Vec<ExistingIssue> =
                serde_json::from_str(&text).map_err(|e| NightlyError::Corrupt {
                    path: existing.clone(),
                    location: Some((e.line(), e.column())),
                    message: format!("not a list of issues: {e}"),
                    fix: "write it with gh issue list --label pmconf-nightly --state open --json number,body,comments".into(),
                })?;
            let actions = issue_actions(&history.regressions()?, latest, &issues, site.as_deref());
            write_plan(&output, &actions)?;
            println!(
                "{} issue action{} for night {} -> {}",
                actions.len(),
                if actions.len() == 1 { "" } else { "s" },
                latest.night,
                output.join("plan.tsv").display()
            );
            Ok(0)
        }
    }
}

/// Whether `path` is a history directory.
fn is_history(path: &Path) -> bool {
    path.is_dir() && path.join("nights.json").is_file()
}

/// One side of a diff: its results, digests, and the latest night when it
/// is a history.
struct Loaded {
    results: ResultsFile,
    digests: Option<EngineDigests>,
    latest: Option<NightEntry>,
}

impl Loaded {
    fn side(&self, path: &Path) -> Side<'_> {
        Side {
            results: &self.results,
            digests: self.digests.as_ref(),
            name: path.display().to_string(),
        }
    }
}

/// A results file, or a history's current state.
fn load_side(path: &Path) -> Result<Loaded, NightlyError> {
    if !is_history(path) {
        return Ok(Loaded {
            results: ResultsFile::load(path)?,
            digests: None,
            latest: None,
        });
    }
    let history = History::open(path)?;
    let current = history.current()?;
    Ok(Loaded {
        results: current.results,
        digests: Some(current.digests),
        latest: history.latest().cloned(),
    })
}

/// The summary of a history's latest night, as recorded.
fn history_summary(
    data: &Path,
    known: &KnownDivergences,
    fail_on: FailOn,
) -> Result<i32, NightlyError> {
    let history = History::open(data)?;
    let latest = history.latest_night()?;
    let entry = &latest.meta.entry;
    let previous = history.nights.iter().rev().nth(1);
    print!(
        "{}",
        summary_markdown(&SummaryInput {
            results: &latest.results,
            diff: latest.diff.as_ref(),
            absent: &entry.absent,
            previous,
            commit: entry.revision.as_deref(),
            known,
        })
    );
    Ok(i32::from(
        latest.diff.as_ref().is_some_and(|d| met(d, fail_on)),
    ))
}

/// Writes `actions` into `dir` (replaced whole): `plan.tsv` and a file
/// per title and body.
fn write_plan(dir: &Path, actions: &[IssueAction]) -> Result<(), NightlyError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| NightlyError::write(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| NightlyError::write(dir, e))?;
    let mut plan = String::new();
    for (i, action) in actions.iter().enumerate() {
        let file = |suffix: &str, text: &str| -> Result<String, NightlyError> {
            let path = dir.join(format!("{}.{suffix}", i + 1));
            write_atomically(&path, text.as_bytes(), Dir::MustExist)
                .map_err(|e| NightlyError::write(&path, e))?;
            Ok(path.display().to_string())
        };
        let line = match action {
            IssueAction::Create { title, body } => {
                format!("create\t{}\t{}", file("title", title)?, file("md", body)?)
            }
            IssueAction::Comment { number, body } => {
                format!("comment\t{number}\t{}", file("md", body)?)
            }
            IssueAction::Close { number, body } => {
                format!("close\t{number}\t{}", file("md", body)?)
            }
        };
        plan.push_str(&line);
        plan.push('\n');
    }
    let path = dir.join("plan.tsv");
    write_atomically(&path, plan.as_bytes(), Dir::MustExist)
        .map_err(|e| NightlyError::write(&path, e))
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON values serialize")
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), NightlyError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| NightlyError::write(dir, e))?;
    }
    let mut text = pretty(value);
    text.push('\n');
    write_atomically(path, text.as_bytes(), Dir::MustExist)
        .map_err(|e| NightlyError::write(path, e))
}
