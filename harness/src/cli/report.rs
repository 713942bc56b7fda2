//! `pmconf report`: nightly reports from results files and a history.
//!
//! Exit status: 0 done, 1 when `diff --fail-on` is met, 2 for bad input
//! (the error names the file and the fix; nothing is written).

use super::EXIT_BAD_INPUT;
use crate::known::KnownDivergences;
use crate::nightly::diff::{diff, Side};
use crate::nightly::diff_format::{diff_json, diff_markdown, diff_text};
use crate::nightly::history::{case_digests, parse_packages, History, NightInput};
use crate::nightly::job_summary::summary_markdown;
use crate::nightly::merge::merge;
use crate::nightly::results::ResultsFile;
use crate::nightly::site::{write_site, SiteData};
use crate::nightly::timeline::{timeline, timeline_markdown, timeline_text};
use crate::nightly::NightlyError;
use crate::report::write_atomically;
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
    /// What changed between two nights (results files or night directories).
    Diff {
        /// The older night.
        old: PathBuf,
        /// The newer night.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: ReportFormat,
        /// Exit 1 on any regression, any change, or never.
        #[arg(long, value_enum, default_value_t)]
        fail_on: FailOn,
        /// Known divergences (default: known-divergences.yaml when present).
        #[arg(long)]
        known: Option<PathBuf>,
    },
    /// Record a night into a history directory (the data branch).
    Record {
        /// The history directory.
        data: PathBuf,
        /// The night's id, later than every recorded one (e.g. 2026-11-29).
        #[arg(long)]
        night: String,
        /// The night's merged results.
        #[arg(long)]
        results: PathBuf,
        /// The pmconf revision (default: the results' run_info.revision).
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
    /// A night's summary (for $GITHUB_STEP_SUMMARY: Markdown, under 1 MiB).
    Summary {
        /// The results file.
        #[arg(default_value = "target/pmconf/results.json")]
        results: PathBuf,
        /// Print Markdown (the only format for now; required for clarity).
        #[arg(long, required = true)]
        markdown: bool,
        /// The night before (results file or night directory), to list changes.
        #[arg(long)]
        previous: Option<PathBuf>,
        /// Known divergences (default: known-divergences.yaml when present).
        #[arg(long)]
        known: Option<PathBuf>,
    },
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
            let (old_results, old_digests) = load_night(&old)?;
            let (new_results, new_digests) = load_night(&new)?;
            let d = diff(
                &Side {
                    results: &old_results,
                    digests: old_digests.as_ref(),
                    name: old.display().to_string(),
                },
                &Side {
                    results: &new_results,
                    digests: new_digests.as_ref(),
                    name: new.display().to_string(),
                },
                &known,
            );
            match format {
                ReportFormat::Text => print!("{}", diff_text(&d)),
                ReportFormat::Markdown => print!("{}", diff_markdown(&d)),
                ReportFormat::Json => println!("{}", pretty(&diff_json(&d))),
            }
            let met = match fail_on {
                FailOn::Regression => d.has_regression(),
                FailOn::Change => d.has_change(),
                FailOn::Never => false,
            };
            Ok(i32::from(met))
        }
        ReportCommand::Record {
            data,
            night,
            results,
            revision,
            run_link,
            packages,
            cases,
            known,
        } => {
            let known = KnownDivergences::load_or_default(known.as_deref())?;
            let input = NightInput {
                night,
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
            };
            let mut history = History::open(&data)?;
            let night = input.night.clone();
            let logged = history.record(input, &known)?;
            println!(
                "recorded night {night} in {} ({} nights; {} changes logged)",
                data.display(),
                history.nights.len(),
                logged.len()
            );
            Ok(0)
        }
        ReportCommand::History { case, data, format } => {
            let history = History::open(&data)?;
            let nights: Vec<(String, ResultsFile)> = history
                .nights
                .iter()
                .map(|n| Ok((n.night.clone(), history.results(&n.night)?)))
                .collect::<Result<_, NightlyError>>()?;
            let refs: Vec<(&str, &ResultsFile)> =
                nights.iter().map(|(n, r)| (n.as_str(), r)).collect();
            let timelines = timeline(&refs, &case);
            if timelines.is_empty() && !nights.is_empty() {
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
            known,
        } => {
            let known = KnownDivergences::load_or_default(known.as_deref())?;
            let current = ResultsFile::load(&results)?;
            let d = match &previous {
                Some(p) => {
                    let (old, old_digests) = load_night(p)?;
                    Some(diff(
                        &Side {
                            results: &old,
                            digests: old_digests.as_ref(),
                            name: p.display().to_string(),
                        },
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
            print!("{}", summary_markdown(&current, d.as_ref(), &known));
            Ok(0)
        }
    }
}

/// A results file, or a night directory with its case digests.
fn load_night(
    path: &Path,
) -> Result<(ResultsFile, Option<BTreeMap<String, String>>), NightlyError> {
    let results = ResultsFile::load(path)?;
    let meta = path.join("night.json");
    let digests = if path.is_dir() && meta.is_file() {
        let text = std::fs::read_to_string(&meta).map_err(|e| NightlyError::read(&meta, e))?;
        let value: crate::nightly::history::NightMeta =
            serde_json::from_str(&text).map_err(|e| NightlyError::Corrupt {
                path: meta.clone(),
                location: Some((e.line(), e.column())),
                message: format!("malformed night metadata: {e}"),
                fix: "restore it from the data branch".into(),
            })?;
        (!value.cases.is_empty()).then_some(value.cases)
    } else {
        None
    };
    Ok((results, digests))
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
    write_atomically(path, text.as_bytes()).map_err(|e| NightlyError::write(path, e))
}
