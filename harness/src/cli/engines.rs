//! Choosing engines from `--engine`.

use super::placement::WebDriverUrls;
use crate::engine::{discover, EngineId, EngineInstance};

/// Which engines to run, from the `--engine` value: `all`, a comma list,
/// or absent (every installed engine; under CI, all three, so a missing one
/// fails instead of being skipped).
pub fn select_engines(
    flag: Option<&str>,
    ci: bool,
) -> Result<(Vec<EngineId>, Vec<String>), String> {
    let mut notes = Vec::new();
    let engines = match flag {
        None if ci => EngineId::ALL.to_vec(),
        None => {
            let mut found = Vec::new();
            for e in EngineId::ALL {
                match discover(e) {
                    Ok(_) => found.push(e),
                    Err(missing) => notes.push(format!("skipping {}: {missing}", e.name())),
                }
            }
            if found.is_empty() {
                return Err(
                    "no engine is installed; install them with `bash scripts/install-engines`"
                        .into(),
                );
            }
            found
        }
        Some("all") => EngineId::ALL.to_vec(),
        Some(list) => {
            let mut out = Vec::new();
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let e: EngineId = name.parse().map_err(|_| {
                    format!("unknown engine `{name}`; use chromium, firefox, webkitgtk or all")
                })?;
                if !out.contains(&e) {
                    out.push(e);
                }
            }
            if out.is_empty() {
                return Err(
                    "--engine names no engine; use chromium, firefox, webkitgtk or all".into(),
                );
            }
            out
        }
    };
    Ok((engines, notes))
}

/// [`select_engines`] for a command: prints the notes (skipped engines) and
/// turns an error into the bad-input exit status.
///
/// Every engine selected must be installed: a missing one is reported with
/// the command that installs it before anything starts or is written.
pub fn engines_for_command(flag: Option<&str>, ci: bool) -> Result<Vec<EngineId>, i32> {
    let instances = instances_for_command(flag, ci, &WebDriverUrls::default())?;
    Ok(instances.into_iter().map(|i| i.kind).collect())
}

/// The engine instances a command runs: the engines `--engine` selects,
/// each on its `--webdriver-url` endpoint if it has one. Without
/// `--engine`, a URL for every engine selects all three, and an
/// `ENGINE=URL` adds that engine to the installed ones.
///
/// Every local instance must be installed, as for [`engines_for_command`];
/// a remote one needs nothing here.
pub fn instances_for_command(
    flag: Option<&str>,
    ci: bool,
    urls: &WebDriverUrls,
) -> Result<Vec<EngineInstance>, i32> {
    let selected = match (flag, urls.all.is_some()) {
        (None, true) => Ok((EngineId::ALL.to_vec(), Vec::new())),
        (None, false) if !urls.per_engine.is_empty() => {
            let local = select_engines(None, ci).unwrap_or_default();
            let (mut engines, notes) = local;
            engines.extend(urls.per_engine.iter().map(|(e, _)| *e));
            engines.sort();
            engines.dedup();
            Ok((engines, notes))
        }
        _ => select_engines(flag, ci),
    };
    match selected {
        Ok((engines, notes)) => {
            for n in notes {
                eprintln!("note: {n}");
            }
            let instances = urls.place(&engines).map_err(|e| {
                eprintln!("error: {e}");
                super::EXIT_BAD_INPUT
            })?;
            let missing: Vec<String> = instances
                .iter()
                .filter(|i| i.is_local())
                .filter_map(|i| discover(i.kind).err())
                .map(|m| m.to_string())
                .collect();
            if !missing.is_empty() {
                for m in &missing {
                    eprintln!("error: {m}");
                }
                return Err(super::EXIT_BAD_INPUT);
            }
            Ok(instances)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(super::EXIT_BAD_INPUT)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_lists_and_all() {
        assert_eq!(
            select_engines(Some("all"), false).unwrap().0,
            EngineId::ALL.to_vec()
        );
        assert_eq!(
            select_engines(Some("firefox, chromium,firefox"), false)
                .unwrap()
                .0,
            vec![EngineId::Firefox, EngineId::Chromium]
        );
        assert!(select_engines(Some("safari"), false)
            .unwrap_err()
            .contains("unknown engine `safari`"));
        assert!(select_engines(Some(","), false).is_err());
    }

    #[test]
    fn ci_wants_every_engine() {
        assert_eq!(
            select_engines(None, true).unwrap().0,
            EngineId::ALL.to_vec()
        );
    }
}
