//! Choosing engines from `--engine`.

use super::placement::WebDriverUrls;
use crate::engine::{discover, DeclaredInstance, EngineId, EngineInstance};

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
    let instances = instances_for_command(flag, ci, &WebDriverUrls::default(), &[])?;
    Ok(instances.into_iter().map(|i| i.kind).collect())
}

/// The `--engine` names that are declared instances, and the rest (system
/// engine names, or `all`) as a flag for [`select_engines`]; `None` when
/// nothing is left for it.
fn split_declared<'a>(
    flag: Option<&str>,
    declared: &'a [DeclaredInstance],
) -> (Vec<&'a DeclaredInstance>, Option<Option<String>>) {
    let Some(list) = flag else {
        return (declared.iter().collect(), Some(None));
    };
    if list.trim() == "all" {
        return (declared.iter().collect(), Some(Some("all".into())));
    }
    let mut chosen = Vec::new();
    let mut system = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match declared.iter().find(|d| d.instance.name == name) {
            Some(d) if !chosen.contains(&d) => chosen.push(d),
            Some(_) => {}
            None => system.push(name),
        }
    }
    let rest = if system.is_empty() && !chosen.is_empty() {
        None
    } else {
        Some(Some(system.join(",")))
    };
    (chosen, rest)
}

/// The engine instances a command runs: the system engines `--engine`
/// selects, each on its `--webdriver-url` endpoint if it has one, then the
/// declared instances it names (all of them without `--engine` or with
/// `all`). Without `--engine`, a URL for every engine selects all three,
/// and an `ENGINE=URL` adds that engine to the installed ones.
///
/// Every local instance must be able to start: a missing engine is
/// reported with the command that installs it, a declared binary that is
/// missing with the line that declares it, before anything starts or is
/// written. A remote one needs nothing here.
pub fn instances_for_command(
    flag: Option<&str>,
    ci: bool,
    urls: &WebDriverUrls,
    declared: &[DeclaredInstance],
) -> Result<Vec<EngineInstance>, i32> {
    let fail = |e: String| {
        eprintln!("error: {e}");
        super::EXIT_BAD_INPUT
    };
    let (chosen, system_flag) = split_declared(flag, declared);
    let selected = match system_flag {
        None => Ok((Vec::new(), Vec::new())),
        Some(None) if urls.all.is_some() => Ok((EngineId::ALL.to_vec(), Vec::new())),
        Some(None) if !urls.per_engine.is_empty() || !declared.is_empty() => {
            // Declared instances or a URL make the installed engines
            // optional here: none installed is not an error.
            let (mut engines, notes) = select_engines(None, ci).unwrap_or_default();
            engines.extend(urls.per_engine.iter().map(|(e, _)| *e));
            engines.sort();
            engines.dedup();
            Ok((engines, notes))
        }
        Some(flag) => select_engines(flag.as_deref(), ci).map_err(|e| {
            if declared.is_empty() {
                e
            } else {
                let names: Vec<&str> = declared.iter().map(|d| d.instance.name.as_str()).collect();
                format!("{e}, or a declared instance: {}", names.join(", "))
            }
        }),
    };
    let (engines, notes) = selected.map_err(fail)?;
    for n in notes {
        eprintln!("note: {n}");
    }
    let mut instances = urls.place(&engines).map_err(fail)?;
    let mut problems: Vec<String> = instances
        .iter()
        .filter(|i| i.is_local())
        .filter_map(|i| discover(i.kind).err())
        .map(|m| m.to_string())
        .collect();
    for d in &chosen {
        problems.extend(d.instance.problems().into_iter().map(|p| {
            format!(
                "{}: engine `{}`: {p}\n  fix: correct the path, or leave the instance out of --engine",
                d.declared_at, d.instance.name
            )
        }));
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("error: {p}");
        }
        return Err(super::EXIT_BAD_INPUT);
    }
    instances.extend(chosen.into_iter().map(|d| d.instance.clone()));
    if instances.is_empty() {
        return Err(fail(
            "no engine to run; install them with `bash scripts/install-engines`".into(),
        ));
    }
    Ok(instances)
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

    fn declared(names: &[&str]) -> Vec<DeclaredInstance> {
        names
            .iter()
            .map(|name| DeclaredInstance {
                instance: EngineInstance {
                    name: (*name).to_owned(),
                    ..EngineInstance::system(EngineId::Chromium)
                },
                declared_at: "pmconf.toml:1".into(),
            })
            .collect()
    }

    #[test]
    fn engine_names_split_into_declared_instances_and_the_rest() {
        let d = declared(&["chromium-local", "nightly"]);
        let (chosen, rest) = split_declared(Some("chromium, nightly,nightly"), &d);
        assert_eq!(chosen, vec![&d[1]]);
        assert_eq!(rest, Some(Some("chromium".to_owned())));
        let (chosen, rest) = split_declared(Some("chromium-local"), &d);
        assert_eq!(chosen, vec![&d[0]]);
        assert_eq!(rest, None, "no system engine asked for");
        let (chosen, rest) = split_declared(None, &d);
        assert_eq!(chosen.len(), 2);
        assert_eq!(rest, Some(None));
        let (chosen, rest) = split_declared(Some("all"), &d);
        assert_eq!(chosen.len(), 2);
        assert_eq!(rest, Some(Some("all".to_owned())));
        let (_, rest) = split_declared(Some("safari"), &d);
        assert_eq!(rest, Some(Some("safari".to_owned())), "left for the error");
    }
}
