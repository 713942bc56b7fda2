//! `pmconf model`: print each case's allowed outcomes.

use super::{report_load_errors, Format, EXIT_BAD_INPUT};
use crate::atomic::{write_atomically, Dir};
use crate::case_files::{load_cases, LoadedCase};
use pmconf_model::answer_case;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One case's answer as printed.
#[derive(Serialize)]
pub struct ModelReport<'a> {
    /// The case file.
    pub case: &'a str,
    /// Its description.
    pub description: &'a str,
    /// The model's answer.
    #[serde(flatten)]
    pub answer: pmconf_model::Answer,
}

/// Builds the report for loaded cases.
pub fn reports(cases: &[LoadedCase]) -> Vec<ModelReport<'_>> {
    cases
        .iter()
        .map(|c| ModelReport {
            case: &c.name,
            description: &c.case.description,
            answer: answer_case(&c.case),
        })
        .collect()
}

/// Runs `pmconf model`; returns the exit status.
pub fn run(inputs: &[PathBuf], format: Format, output: Option<&Path>) -> i32 {
    let cases = match load_cases(inputs) {
        Ok(c) => c,
        Err(errors) => {
            report_load_errors(&errors);
            return EXIT_BAD_INPUT;
        }
    };
    let reports = reports(&cases);
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&reports).expect("reports serialize") + "\n",
        Format::Text | Format::Yaml => serde_yaml::to_string(&reports).expect("reports serialize"),
    };
    match output {
        None => {
            print!("{text}");
            0
        }
        Some(path) => match write_atomically(path, text.as_bytes(), Dir::Make) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                EXIT_BAD_INPUT
            }
        },
    }
}

/// One case's line of `pmconf model --stats`.
struct StatsRow<'a> {
    states: usize,
    allowed: usize,
    contested: usize,
    time: std::time::Duration,
    /// Origin-keyed agent clusters allow other outcomes.
    keyings_differ: bool,
    name: &'a str,
}

/// Runs `pmconf model --stats`: how much work the model does per case,
/// and which cases' answers differ under the two keyings of agent
/// clusters.
pub fn stats(inputs: &[PathBuf]) -> i32 {
    let cases = match load_cases(inputs) {
        Ok(c) => c,
        Err(errors) => {
            report_load_errors(&errors);
            return EXIT_BAD_INPUT;
        }
    };
    const RUNS: usize = 21;
    let mut rows: Vec<StatsRow> = cases
        .iter()
        .map(|c| {
            let mut times: Vec<std::time::Duration> = (0..RUNS)
                .map(|_| {
                    let started = std::time::Instant::now();
                    let answer = answer_case(&c.case);
                    let elapsed = started.elapsed();
                    std::hint::black_box(answer);
                    elapsed
                })
                .collect();
            times.sort();
            let answer = answer_case(&c.case);
            StatsRow {
                states: answer.states_explored,
                allowed: answer.allowed.len(),
                contested: answer.contested.len(),
                time: times[RUNS / 2],
                keyings_differ: answer.keyings_differ,
                name: c.name.as_str(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.states.cmp(&a.states).then(b.time.cmp(&a.time)));
    println!(
        "{:>8} {:>8} {:>9} {:>12} {:>7}  case",
        "states", "allowed", "contested", "median µs", "keying"
    );
    for r in &rows {
        println!(
            "{:>8} {:>8} {:>9} {:>12.1} {:>7}  {}",
            r.states,
            r.allowed,
            r.contested,
            r.time.as_secs_f64() * 1e6,
            if r.keyings_differ { "differs" } else { "" },
            r.name
        );
    }
    if !rows.is_empty() {
        // rows are sorted largest first.
        let at = |q: f64| rows[((rows.len() - 1) as f64 * (1.0 - q)).round() as usize].states;
        println!(
            "states explored: median {}, p90 {}, p99 {}, max {}",
            at(0.5),
            at(0.9),
            at(0.99),
            rows[0].states
        );
    }
    let differ: Vec<&str> = rows
        .iter()
        .filter(|r| r.keyings_differ)
        .map(|r| r.name)
        .collect();
    println!(
        "{} case{} whose answer differs when agent clusters are keyed by origin (whatwg/html#7617; those outcomes are contested){}",
        differ.len(),
        if differ.len() == 1 { "" } else { "s" },
        if differ.is_empty() { "" } else { ":" }
    );
    for name in &differ {
        println!("  {name}");
    }
    let total: std::time::Duration = rows.iter().map(|r| r.time).sum();
    println!(
        "{} cases, {:.2} ms in all (median per case summed; build profile: {})",
        rows.len(),
        total.as_secs_f64() * 1e3,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    0
}
