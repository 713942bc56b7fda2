//! Merging the results files of one night (engines run in separate jobs,
//! or shards of the suite) into one.
//!
//! Rules, as wpt.fyi merges wptreport chunks: results are concatenated in
//! input order; a case may appear once per engine across all inputs; an
//! engine's browser version must agree wherever it appears; every
//! `run_info` key present in several inputs must agree, except
//! `time_start` (the earliest is kept) and `time_end` (the latest); the
//! merged run is complete only if every input is; setup failures are
//! kept, each once.

use super::results::ResultsFile;
use super::NightlyError;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// Merges `inputs` (at least one) into one results file, or says which
/// two inputs conflict and on what.
pub fn merge(inputs: &[ResultsFile]) -> Result<ResultsFile, NightlyError> {
    let Some(first) = inputs.first() else {
        return Err(NightlyError::Usage {
            message: "nothing to merge".into(),
            fix: "name the results files to merge".into(),
        });
    };
    let mut merged = ResultsFile {
        path: PathBuf::from("(merged)"),
        complete: true,
        run_info: Default::default(),
        engines: vec![],
        setup_failures: vec![],
        results: vec![],
        index: Default::default(),
    };
    // Where each engine, result and run_info key came from.
    let mut engine_from: HashMap<String, usize> = HashMap::new();
    let mut result_from: HashMap<(String, String), usize> = HashMap::new();
    let mut info_from: HashMap<String, usize> = HashMap::new();
    let conflict = |a: usize, b: usize, message: String, fix: &str| NightlyError::Conflict {
        first: inputs[a].path.clone(),
        second: inputs[b].path.clone(),
        message,
        fix: fix.into(),
    };
    for (index, input) in inputs.iter().enumerate() {
        merged.complete &= input.complete;
        for info in &input.engines {
            match merged.engines.iter().find(|e| e.engine == info.engine) {
                Some(seen) if seen.browser_version != info.browser_version => {
                    return Err(conflict(
                        engine_from[&info.engine],
                        index,
                        format!(
                            "{} was {} in one and {} in the other",
                            info.engine, seen.browser_version, info.browser_version
                        ),
                        "merge only runs of the same night, made with the same engine builds",
                    ))
                }
                Some(_) => {}
                None => {
                    engine_from.insert(info.engine.clone(), index);
                    merged.engines.push(info.clone());
                }
            }
        }
        for failure in &input.setup_failures {
            if !merged.setup_failures.contains(failure) {
                merged.setup_failures.push(failure.clone());
            }
        }
        for result in &input.results {
            let key = (result.engine.clone(), result.case.clone());
            if let Some(&earlier) = result_from.get(&key) {
                return Err(conflict(
                    earlier,
                    index,
                    format!("both hold {} in {}", result.case, result.engine),
                    "give each shard a disjoint part of the suite (`pmconf run --shard`), or merge each run once",
                ));
            }
            result_from.insert(key, index);
            merged.results.push(result.clone());
        }
        for (key, value) in &input.run_info {
            match (key.as_str(), merged.run_info.get(key)) {
                (_, None) => {
                    info_from.insert(key.clone(), index);
                    merged.run_info.insert(key.clone(), value.clone());
                }
                ("time_start", Some(old)) => {
                    let keep = earliest(old, value);
                    merged.run_info.insert(key.clone(), keep);
                }
                ("time_end", Some(old)) => {
                    let keep = latest(old, value);
                    merged.run_info.insert(key.clone(), keep);
                }
                (_, Some(old)) if old == value => {}
                (_, Some(old)) => {
                    return Err(conflict(
                        info_from[key],
                        index,
                        format!("run_info.{key} is {old} in one and {value} in the other"),
                        "merge only runs of the same night and pmconf revision",
                    ))
                }
            }
        }
    }
    merged.path = first.path.clone();
    Ok(merged)
}

/// Times are compared as numbers (milliseconds) or else as text (RFC 3339
/// sorts as text).
fn key(v: &Value) -> (f64, String) {
    (
        v.as_f64().unwrap_or(f64::NAN),
        v.as_str().unwrap_or("").to_owned(),
    )
}

fn earliest(a: &Value, b: &Value) -> Value {
    let (ka, kb) = (key(a), key(b));
    let b_first = if ka.0.is_nan() {
        kb.1 < ka.1
    } else {
        kb.0 < ka.0
    };
    if b_first {
        b.clone()
    } else {
        a.clone()
    }
}

fn latest(a: &Value, b: &Value) -> Value {
    let (ka, kb) = (key(a), key(b));
    let b_later = if ka.0.is_nan() {
        kb.1 > ka.1
    } else {
        kb.0 > ka.0
    };
    if b_later {
        b.clone()
    } else {
        a.clone()
    }
}
