//! Merging the results files of one night (engines run in separate jobs,
//! or shards of the suite) into one.
//!
//! Rules, as wpt.fyi merges wptreport chunks: results are concatenated in
//! input order; a case may appear once per engine across all inputs; an
//! engine's browser version must agree wherever it appears; the `run`
//! blocks must agree on the pmconf version and revision, and the merged
//! one runs from the earliest start to the latest end (see
//! [`merge_run`]); the `cases` and `model_snapshots` blocks are joined,
//! each case once; the
//! merged run is complete only if every input is; setup failures are
//! kept, each once.

use super::results::ResultsFile;
use super::NightlyError;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Merges `inputs` (at least one) into one results file, or says which
/// two inputs conflict and on what.
pub fn merge(inputs: &[ResultsFile]) -> Result<ResultsFile, NightlyError> {
    let Some(first) = inputs.first() else {
        return Err(NightlyError::Usage {
            message: "nothing to merge".into(),
            fix: "name the results files to merge".into(),
        });
    };
    let mut merged = ResultsFile::empty("(merged)");
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
        merge_run(&mut merged.run, &input.run, index, &mut info_from).map_err(
            |(earlier, message)| {
                conflict(
                    earlier,
                    index,
                    message,
                    "merge only runs of the same night, made by one pmconf build",
                )
            },
        )?;
        join_by_case(&mut merged.cases_info, &input.cases_info);
        join_by_case(&mut merged.model_snapshots, &input.model_snapshots);
    }
    merged.path = first.path.clone();
    Ok(merged)
}

/// Adds each item of `more` whose `case` is not in `into` yet (the
/// `cases` and `model_snapshots` blocks: one entry per case, whichever
/// engine's run wrote it).
fn join_by_case(into: &mut Vec<Value>, more: &[Value]) {
    for item in more {
        let name = item.get("case");
        if !into.iter().any(|c| c.get("case") == name) {
            into.push(item.clone());
        }
    }
}

/// Merges one input's `run` block into `merged`: `pmconf_version`,
/// `revision` and `commit` must agree (else the input that set it first, and why);
/// the earliest start (`started_unix_ms` with its `started_at`), the
/// latest `ended_at` (the format sorts as text) and the longest `seconds`
/// (the engines ran side by side) are kept; any other key (the command
/// line, how the revision was found) is the first input's.
fn merge_run(
    merged: &mut Map<String, Value>,
    input: &Map<String, Value>,
    index: usize,
    from: &mut HashMap<String, usize>,
) -> Result<(), (usize, String)> {
    for (key, value) in input {
        let Some(old) = merged.get(key).filter(|v| !v.is_null()) else {
            from.insert(key.clone(), index);
            merged.insert(key.clone(), value.clone());
            continue;
        };
        match key.as_str() {
            "pmconf_version" | "revision" | "commit" if old != value => {
                return Err((
                    from[key],
                    format!("run.{key} is {old} in one and {value} in the other"),
                ))
            }
            "started_unix_ms" => {
                if matches!((value.as_u64(), old.as_u64()), (Some(v), Some(o)) if v < o) {
                    merged.insert(key.clone(), value.clone());
                    if let Some(at) = input.get("started_at") {
                        merged.insert("started_at".into(), at.clone());
                    }
                }
            }
            "ended_at" if value.as_str() > old.as_str() => {
                merged.insert(key.clone(), value.clone());
            }
            "seconds" if value.as_f64() > old.as_f64() => {
                merged.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    Ok(())
}
