//! The static site of a history: a front page for the latest night and a
//! page per case. Plain HTML with inline CSS, an inline SVG chart and a
//! few lines of inline script for the filters (kept in the URL); no
//! external resource, every link relative, so it works from `file://` and
//! from any sub-path of GitHub Pages.
//!
//! ```text
//! OUT/index.html                   the latest night
//! OUT/case/<case with / as __>.html  one page per case
//! OUT/src/<case>                   the case file and its reproducer, when --sources is given
//! ```

mod case_page;
mod chart;
mod front;
mod page;

use super::diff::NightDiff;
use super::history::{Absent, History, NightEntry, NightMeta};
use super::order::in_engine_order;
use super::results::ResultsFile;
use super::timeline::CaseTimeline;
use super::NightlyError;
use crate::known::KnownDivergences;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything the pages are made of: the index, the latest night and each
/// case's stored timeline. Nothing is read per night but the index, so
/// building the site takes as long on the hundredth night as on the first.
pub struct SiteData {
    /// Every night of the index, oldest first.
    pub nights: Vec<NightEntry>,
    /// The latest night's metadata.
    pub latest: NightMeta,
    /// The latest night's results, of the engines that took part.
    pub results: ResultsFile,
    /// The engines the latest night expected that did not take part.
    pub absent: BTreeMap<String, Absent>,
    /// The latest night against each engine's last night before, when an
    /// engine took part before.
    pub diff: Option<NightDiff>,
    /// Each case's timeline, by case.
    pub timelines: BTreeMap<String, CaseTimeline>,
    /// Bug links.
    pub known: KnownDivergences,
    /// Case paths whose file (`src/<case>`) the site holds.
    pub sources: Vec<String>,
    /// Case paths whose reproducer (`src/<case stem>.html`) the site holds.
    pub reproducers: Vec<String>,
}

impl SiteData {
    /// Reads `history`'s index, latest night and timelines.
    pub fn load(history: &History, known: KnownDivergences) -> Result<Self, NightlyError> {
        let latest = history.latest_night()?;
        let timelines = history.timelines()?;
        Ok(SiteData {
            nights: history.nights.clone(),
            absent: latest.meta.entry.absent.clone(),
            latest: latest.meta,
            results: latest.results,
            diff: latest.diff,
            timelines,
            known,
            sources: vec![],
            reproducers: vec![],
        })
    }

    /// The latest night's index entry.
    pub fn entry(&self) -> &NightEntry {
        &self.latest.entry
    }

    /// Every engine of the latest night, present or absent, in engine
    /// order: the one order of every table.
    pub fn engines(&self) -> Vec<&str> {
        in_engine_order(
            self.results
                .engines_with_results()
                .into_iter()
                .chain(self.absent.keys().map(String::as_str)),
        )
    }

    /// Every case of any night, sorted.
    pub fn all_cases(&self) -> Vec<String> {
        let mut cases: Vec<String> = self
            .results
            .cases()
            .into_iter()
            .map(String::from)
            .chain(self.timelines.keys().cloned())
            .collect();
        cases.sort();
        cases.dedup();
        cases
    }
}

/// The file name of a case's page, under `case/`.
pub fn case_page_name(case: &str) -> String {
    format!("{}.html", case.replace('/', "__"))
}

/// Writes the site into `out`, whole: it is built in a sibling directory
/// and renamed into place, so a failure leaves `out` as it was. `sources`
/// is the repository root to copy case files and reproducers from.
pub fn write_site(
    data: &mut SiteData,
    out: &Path,
    sources: Option<&Path>,
) -> Result<(), NightlyError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| NightlyError::write(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".pmconf-site-")
        .tempdir_in(&parent)
        .map_err(|e| NightlyError::write(&parent, e))?;
    let root = staging.path();
    if let Some(src) = sources {
        copy_sources(data, src, root)?;
    }
    let write = |rel: &str, text: String| {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| NightlyError::write(dir, e))?;
        }
        std::fs::write(&path, text).map_err(|e| NightlyError::write(out.join(rel), e))
    };
    write("index.html", front::front_page(data))?;
    for case in data.all_cases() {
        write(
            &format!("case/{}", case_page_name(&case)),
            case_page::case_page(data, &case),
        )?;
    }
    // Swap into place: the old site is moved aside, then removed.
    let staged = staging.keep();
    let aside = parent.join(format!(".pmconf-site-old-{}", std::process::id()));
    let had_old = out.exists();
    if had_old {
        std::fs::rename(out, &aside).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            NightlyError::write(out, e)
        })?;
    }
    if let Err(e) = std::fs::rename(&staged, out) {
        let _ = std::fs::remove_dir_all(&staged);
        if had_old {
            let _ = std::fs::rename(&aside, out);
        }
        return Err(NightlyError::write(out, e));
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&aside);
    }
    Ok(())
}

/// Copies each case file (and its `.html` reproducer, when there is one)
/// from the repository root `src` into `root/src/`.
fn copy_sources(data: &mut SiteData, src: &Path, root: &Path) -> Result<(), NightlyError> {
    for case in data.all_cases() {
        let from = src.join(&case);
        if !from.is_file() {
            continue;
        }
        let to = root.join("src").join(&case);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| NightlyError::write(dir, e))?;
        }
        std::fs::copy(&from, &to).map_err(|e| NightlyError::read(&from, e))?;
        data.sources.push(case.clone());
        let repro = from.with_extension("html");
        if repro.is_file() {
            std::fs::copy(&repro, to.with_extension("html"))
                .map_err(|e| NightlyError::read(&repro, e))?;
            data.reproducers.push(case.clone());
        }
    }
    Ok(())
}
