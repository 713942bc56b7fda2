//! Writing findings: the YAML case with what found it, the HTML
//! reproducer, and the snapshots it will have once adopted; an origin
//! finding ([`save_finding`]), a shrunk race finding
//! ([`save_race_finding`]), or a race case that could not be shrunk
//! ([`save_unshrunk_race`]). A finding whose rule keys are all saved
//! already is not written again ([`Saved::Already`]).

use super::divergences::Divergence;
use super::findings::{finding_keys, fnv, snapshot_file, SavedFindings, ADOPTED};
use super::race_repro::race_html;
use super::race_shrink::RaceShrunk;
use super::repro::standalone_html;
use super::shrink::Shrunk;
use crate::atomic::{write_all_or_none, write_atomically, Dir};
use crate::case_files::LoadedCase;
use crate::gen::{to_case, GenCase};
use crate::run::model_snapshots::model_snapshot_text;
use crate::run::snapshots::{race_snapshot_text, snapshot_text};
use crate::run::verdict::Verdict;
use pmconf_model::{answer_case, Case, Outcome};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where a finding went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Written here.
    New(PathBuf),
    /// Every rule it breaks is broken by findings already saved here
    /// (under `--out`, or moved to `cases/found/`), or its file is there.
    Already(Vec<PathBuf>),
}

/// Writes a finding under `out`: `<stem>.yaml`, `<stem>.html`, and the
/// snapshots it will have once adopted (`snapshots/<engine>/found__<stem>.snap`
/// with what the engine observed, `snapshots/model/found__<stem>.snap`),
/// under `out/snapshots/`. The YAML goes last: a finding is saved when it
/// is there.
pub fn write_finding(
    out: &Path,
    stem: &str,
    engine: &str,
    case: &Case,
    yaml: &str,
    html: &str,
    observed: &[Outcome],
) -> std::io::Result<()> {
    let adopted_name = format!("{ADOPTED}/{stem}.yaml");
    let snap = snapshot_file(stem);
    let snapshots = out.join("snapshots");
    let answer = answer_case(case);
    let engine_text = if case.is_race() {
        race_snapshot_text(&adopted_name, &case.description, &answer.allowed, observed)
    } else {
        snapshot_text(
            &adopted_name,
            &case.description,
            &Verdict::Diverges,
            &observed[0],
        )
    };
    let loaded = LoadedCase {
        path: PathBuf::from(&adopted_name),
        name: adopted_name.clone(),
        case: case.clone(),
    };
    let model_text = model_snapshot_text(&loaded);
    write_atomically(
        &out.join(format!("{stem}.html")),
        html.as_bytes(),
        Dir::Make,
    )?;
    write_atomically(
        &snapshots.join(engine).join(&snap),
        engine_text.as_bytes(),
        Dir::Make,
    )?;
    write_atomically(
        &snapshots.join("model").join(&snap),
        model_text.as_bytes(),
        Dir::Make,
    )?;
    write_atomically(
        &out.join(format!("{stem}.yaml")),
        yaml.as_bytes(),
        Dir::Make,
    )?;
    Ok(())
}

/// Saves a shrunk origin finding under `out` as
/// `<engine>--<mutations>--<hash>.yaml` with its reproducer and
/// snapshots, its description naming `command`, the engine, the rules it
/// breaks and their keys; unless its keys are all in `saved` (then the
/// files that have them) or the file is there already.
pub fn save_finding(
    out: &Path,
    command: &str,
    engine: &str,
    s: &Shrunk,
    saved: &mut SavedFindings,
) -> std::io::Result<Saved> {
    let case = to_case(&s.case).expect("shrunk cases are valid");
    let keys = finding_keys(engine, &case, std::slice::from_ref(&s.observed));
    if let Some(files) = saved.known(&keys) {
        return Ok(Saved::Already(files));
    }
    let rules: Vec<String> = pmconf_model::violation::classify(&case, &s.observed)
        .iter()
        .map(|v| v.rule.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys_text: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let description = format!(
        "found by `{command}` in {engine}: {} (rule keys: {})",
        rules.join("; "),
        keys_text.join(", ")
    );
    let yaml = s.case.to_yaml(&description);
    let body_hash = fnv(&s.case.to_yaml(""));
    let slug = mutations(&s.case).join("-");
    let stem = format!("{engine}--{slug}--{:08x}", body_hash as u32);
    let path = out.join(format!("{stem}.yaml"));
    let adopted = PathBuf::from(ADOPTED).join(format!("{stem}.yaml"));
    for existing in [&path, &adopted] {
        if existing.exists() {
            return Ok(Saved::Already(vec![existing.clone()]));
        }
    }
    std::fs::create_dir_all(out)?;
    let html = standalone_html(
        &case,
        &description,
        &answer_case(&case).allowed[0],
        &s.observed,
        engine,
    );
    let mut case = case;
    case.description = description.clone();
    write_finding(
        out,
        &stem,
        engine,
        &case,
        &yaml,
        &html,
        std::slice::from_ref(&s.observed),
    )?;
    saved.add(&path, keys);
    Ok(Saved::New(path))
}

/// The targetOrigin mutations of a case's posts, each once, sorted.
fn mutations(case: &GenCase) -> Vec<&'static str> {
    let mut m: Vec<&'static str> = case
        .posts
        .iter()
        .map(|p| p.target_origin.mutation)
        .collect();
    m.sort_unstable();
    m.dedup();
    m
}

/// Saves a shrunk race finding under `out` (YAML with the rule, engine
/// and rate in its description and a comment, the HTML reproducer, the
/// snapshots), unless every rule key it has is saved already: then the
/// files that have them. Runs of the reproducer page: `page_runs`.
pub fn save_race_finding(
    out: &Path,
    saved: &mut SavedFindings,
    command: &str,
    engine: &str,
    shrunk: &RaceShrunk,
    page_runs: usize,
) -> std::io::Result<Saved> {
    let keys = finding_keys(engine, &shrunk.case, &shrunk.observed);
    if let Some(files) = saved.known(&keys) {
        return Ok(Saved::Already(files));
    }
    let (hits, runs) = shrunk.confirmed;
    let keys_text: Vec<&str> = keys.iter().map(String::as_str).collect();
    let description = format!(
        "found by `{command}` in {engine}: {} in {hits} of {runs} runs ({:.0}%) of this minimal case (rule keys: {})",
        shrunk.rule,
        shrunk.rate() * 100.0,
        keys_text.join(", ")
    );
    let mut value: serde_yaml::Value =
        serde_yaml::from_str(&shrunk.yaml).map_err(std::io::Error::other)?;
    if let Some(map) = value.as_mapping_mut() {
        map.insert("description".into(), description.clone().into());
    }
    let body = serde_yaml::to_string(&value).map_err(std::io::Error::other)?;
    let yaml = format!(
        "# pmconf race finding\n# engine: {engine}\n# rule: {} ({})\n# rate: {hits} of {runs} confirmation runs\n# shrunk in {} candidates, {} runs\n{body}",
        shrunk.rule,
        shrunk.rule.key(),
        shrunk.candidates,
        shrunk.runs,
    );
    let slug: String = shrunk
        .rule
        .key()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let stem = format!("{engine}--race-{slug}--{:08x}", fnv(&shrunk.yaml) as u32);
    let path = out.join(format!("{stem}.yaml"));
    for existing in [
        path.clone(),
        Path::new(ADOPTED).join(format!("{stem}.yaml")),
    ] {
        if existing.exists() {
            return Ok(Saved::Already(vec![existing]));
        }
    }
    let mut case = shrunk.case.clone();
    case.description = description.clone();
    let answer = answer_case(&case);
    let contested: Vec<pmconf_model::Outcome> =
        answer.contested.iter().map(|c| c.outcome.clone()).collect();
    let html = race_html(
        &case,
        &description,
        (&answer.allowed, &contested),
        engine,
        &shrunk.histogram,
        page_runs,
    );
    write_finding(out, &stem, engine, &case, &yaml, &html, &shrunk.observed)?;
    saved.add(&path, keys);
    Ok(Saved::New(path))
}

/// Saves a race divergence that was not shrunk as
/// `<out>/races/<engine>--<case>.yaml` (`yaml`, the generated case, its
/// description naming `command`, the engine and the rate) with the
/// observed histogram beside it (`.observed.json`); [`Saved::Already`]
/// when that file is there.
pub fn save_unshrunk_race(
    out: &Path,
    command: &str,
    d: &Divergence,
    yaml: &str,
) -> Result<Saved, String> {
    let stem = format!("{}--{}", d.engine, d.case);
    let dir = out.join("races");
    let path = dir.join(format!("{stem}.yaml"));
    if path.exists() {
        return Ok(Saved::Already(vec![path]));
    }
    let mut value: serde_yaml::Value = serde_yaml::from_str(yaml).map_err(|e| e.to_string())?;
    let description = format!(
        "found by `{command}` in {}: {} of {} runs outside the allowed set (not shrunk); {}",
        d.engine,
        d.unallowed_runs(),
        d.runs,
        value["description"].as_str().unwrap_or("")
    );
    value["description"] = serde_yaml::Value::String(description);
    let yaml = serde_yaml::to_string(&value).map_err(|e| e.to_string())?;
    let observed = serde_json::to_string_pretty(&d.histogram).map_err(|e| e.to_string())?;
    write_all_or_none(
        &dir,
        &[
            (format!("{stem}.yaml"), yaml),
            (format!("{stem}.observed.json"), observed),
        ],
    )?;
    Ok(Saved::New(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::parse_case;

    #[test]
    fn a_saved_race_finding_is_known_from_its_files() {
        use pmconf_model::violation::Rule;
        let yaml = "description: t\nwindows:\n  top: { url: \"http://a.test/\" }\n  child: { parent: top, url: \"http://a.test/\" }\nsteps:\n  - post: { from: top, to: child, message: m, target_origin: \"*\" }\n  - navigate: { window: child, by: top, url: \"http://a.test/\" }\n";
        let c = parse_case("t.yaml", yaml).unwrap();
        // The message posted before the navigation, in the new document.
        let mut o = answer_case(&c).allowed.remove(0);
        let moved = std::mem::take(&mut o.received[1].1);
        let moved = if moved.is_empty() {
            let mut with = answer_case(&c).allowed;
            with.retain(|a| !a.received[1].1.is_empty());
            with.remove(0).received[1].1.clone()
        } else {
            moved
        };
        o.received.push(("child@1".into(), moved));
        let shrunk = RaceShrunk {
            yaml: yaml.into(),
            case: c.clone(),
            rule: Rule::WrongDocument,
            observed: vec![o.clone()],
            confirmed: (6, 20),
            histogram: vec![(o, 6)],
            candidates: 44,
            runs: 410,
            stepped_back: 0,
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("found");
        let mut saved = SavedFindings::default();
        let path = save_race_finding(
            &out,
            &mut saved,
            "pmconf fuzz --races",
            "chromium",
            &shrunk,
            10,
        )
        .unwrap();
        let Saved::New(path) = path else {
            panic!("saved as new: {path:?}")
        };
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# rate: 6 of 20 confirmation runs"), "{text}");
        assert!(text.contains("in 6 of 20 runs (30%)"), "{text}");
        let again = parse_case("again.yaml", &text).expect("a valid case");
        assert_eq!(again.steps.len(), 2);
        assert!(path.with_extension("html").exists());
        let stem = path.file_stem().unwrap().to_str().unwrap();
        assert!(out
            .join("snapshots/model")
            .join(snapshot_file(stem))
            .exists());
        // Read back from disk alone (the engine snapshot beside it): known.
        let on_disk = SavedFindings::load(&[(&out, &out.join("snapshots"))]);
        let keys = finding_keys("chromium", &c, &shrunk.observed);
        assert_eq!(
            keys.iter().map(String::as_str).collect::<Vec<_>>(),
            ["chromium: wrong-document[navigate,post]"]
        );
        assert_eq!(on_disk.known(&keys), Some(vec![path.clone()]));
        let twice = save_race_finding(
            &out,
            &mut saved,
            "pmconf fuzz --races",
            "chromium",
            &shrunk,
            10,
        )
        .unwrap();
        assert_eq!(twice, Saved::Already(vec![path]));
    }
}
