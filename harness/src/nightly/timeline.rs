//! A case's timeline across nights, per engine.
//!
//! Stored incrementally: `timelines/<case>.json` holds, per engine, only
//! the nights on which the case's status changed ([`CaseTimeline`]), so
//! a night rewrites the files of the cases that changed and no other.
//! Read back with the history's index ([`NightEntry`]: which engines took
//! part each night, in which version), it gives the status each night,
//! the runs of nights with one status (first and last night, engine
//! versions), the engine versions between which each change happened, and
//! how often the case flips. Nights an engine did not take part in (its
//! job failed) are shown as such and do not break a run.

use super::history::NightEntry;
use super::order::in_engine_order;
use super::status::CaseStatus;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// From `night` on (on the nights its engine took part in), the case had
/// `status`; `None`: the engine ran without the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusSince {
    /// The first night with this status.
    pub night: String,
    /// The status.
    pub status: Option<CaseStatus>,
}

/// `timelines/<case>.json`: each engine's changes of status, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseTimeline {
    /// The case.
    pub case: String,
    /// Per engine, the nights its status changed.
    pub engines: BTreeMap<String, Vec<StatusSince>>,
}

impl CaseTimeline {
    /// A timeline with no night yet.
    pub fn new(case: &str) -> Self {
        CaseTimeline {
            case: case.to_owned(),
            engines: BTreeMap::new(),
        }
    }

    /// The status in `engine` after the last recorded night.
    pub fn current(&self, engine: &str) -> Option<&CaseStatus> {
        self.engines
            .get(engine)
            .and_then(|runs| runs.last())
            .and_then(|r| r.status.as_ref())
    }

    /// Notes `status` in `engine` on `night`; whether that changed
    /// anything (a status like the last one is not noted again).
    pub fn note(&mut self, night: &str, engine: &str, status: Option<CaseStatus>) -> bool {
        if self.current(engine) == status.as_ref() {
            return false;
        }
        self.engines
            .entry(engine.to_owned())
            .or_default()
            .push(StatusSince {
                night: night.to_owned(),
                status,
            });
        true
    }

    /// Per engine that ever ran the case, in engine order, its timeline
    /// over `nights` (the history's index, oldest first).
    pub fn view(&self, nights: &[NightEntry]) -> Vec<EngineTimeline> {
        let index: HashMap<&str, usize> = nights
            .iter()
            .enumerate()
            .map(|(i, n)| (n.night.as_str(), i))
            .collect();
        in_engine_order(self.engines.keys().map(String::as_str))
            .into_iter()
            .map(|engine| engine_timeline(engine, &self.engines[engine], nights, &index))
            .collect()
    }
}

/// One night of a case in one engine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The night.
    pub night: String,
    /// The engine's version that night.
    pub version: Option<String>,
    /// Whether the engine took part that night (its job produced results).
    pub took_part: bool,
    /// The status, or `None` when the case did not run in the engine.
    pub status: Option<CaseStatus>,
}

impl Point {
    /// `conforms`, `absent` (the case did not run), `engine absent`.
    pub fn label(&self) -> String {
        if !self.took_part {
            return "engine absent".into();
        }
        self.status
            .as_ref()
            .map_or("absent".into(), CaseStatus::label)
    }
}

/// Consecutive nights with one status (nights the engine did not take
/// part in are skipped, not counted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// `conforms`, `diverges (flaky)`, `absent`...
    pub label: String,
    /// The status (`None`: absent).
    pub status: Option<CaseStatus>,
    /// First night with it.
    pub first_night: String,
    /// Last night with it.
    pub last_night: String,
    /// Engine version on the first night.
    pub first_version: Option<String>,
    /// Engine version on the last night.
    pub last_version: Option<String>,
    /// How many nights.
    pub nights: usize,
}

/// A change of status between two consecutive segments, and the engine
/// versions it happened between.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flip {
    /// The status before.
    pub from: String,
    /// The status after.
    pub to: String,
    /// The last night before.
    pub last_night_before: String,
    /// The engine version then.
    pub version_before: Option<String>,
    /// The first night after.
    pub first_night_after: String,
    /// The engine version then.
    pub version_after: Option<String>,
}

impl Flip {
    /// E.g. `conforms -> diverges between 130.0 (2026-11-01) and 131.0
    /// (2026-11-02)`, or with one version on both nights `conforms ->
    /// diverges in 131.0, between 2026-11-01 and 2026-11-02`.
    pub fn words(&self) -> String {
        match (&self.version_before, &self.version_after) {
            (Some(a), Some(b)) if a == b => format!(
                "{} -> {} in {a}, between {} and {}",
                self.from, self.to, self.last_night_before, self.first_night_after
            ),
            _ => format!(
                "{} -> {} between {} ({}) and {} ({})",
                self.from,
                self.to,
                self.version_before.as_deref().unwrap_or("?"),
                self.last_night_before,
                self.version_after.as_deref().unwrap_or("?"),
                self.first_night_after
            ),
        }
    }
}

/// A case's history in one engine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineTimeline {
    /// The engine.
    pub engine: String,
    /// Every night, oldest first.
    pub points: Vec<Point>,
    /// Runs of nights with one status, oldest first.
    pub segments: Vec<Segment>,
    /// The changes between segments where both sides ran.
    pub flips: Vec<Flip>,
    /// Changes of status per pair of consecutive nights (of the engine's)
    /// that both ran the case (0 when fewer than two did).
    pub flip_rate: f64,
}

fn engine_timeline(
    engine: &str,
    runs: &[StatusSince],
    nights: &[NightEntry],
    index: &HashMap<&str, usize>,
) -> EngineTimeline {
    let mut next = 0;
    let mut status: Option<CaseStatus> = None;
    let points: Vec<Point> = nights
        .iter()
        .enumerate()
        .map(|(i, night)| {
            while next < runs.len()
                && index
                    .get(runs[next].night.as_str())
                    .is_some_and(|&n| n <= i)
            {
                status = runs[next].status.clone();
                next += 1;
            }
            let took_part = night.engines.contains_key(engine);
            Point {
                night: night.night.clone(),
                version: night.engines.get(engine).and_then(|e| e.version.clone()),
                took_part,
                status: if took_part { status.clone() } else { None },
            }
        })
        .collect();
    let present: Vec<&Point> = points.iter().filter(|p| p.took_part).collect();
    let mut segments: Vec<Segment> = Vec::new();
    for p in &present {
        match segments.last_mut() {
            Some(s) if s.status == p.status => {
                s.last_night = p.night.clone();
                s.last_version = p.version.clone();
                s.nights += 1;
            }
            _ => segments.push(Segment {
                label: p.label(),
                status: p.status.clone(),
                first_night: p.night.clone(),
                last_night: p.night.clone(),
                first_version: p.version.clone(),
                last_version: p.version.clone(),
                nights: 1,
            }),
        }
    }
    let flips: Vec<Flip> = segments
        .windows(2)
        .filter(|w| w[0].status.is_some() && w[1].status.is_some())
        .map(|w| Flip {
            from: w[0].label.clone(),
            to: w[1].label.clone(),
            last_night_before: w[0].last_night.clone(),
            version_before: w[0].last_version.clone(),
            first_night_after: w[1].first_night.clone(),
            version_after: w[1].first_version.clone(),
        })
        .collect();
    let both = |w: &&[&Point]| w[0].status.is_some() && w[1].status.is_some();
    let pairs = present.windows(2).filter(both).count();
    let changes = present
        .windows(2)
        .filter(both)
        .filter(|w| w[0].status != w[1].status)
        .count();
    EngineTimeline {
        engine: engine.to_owned(),
        points,
        segments,
        flips,
        flip_rate: if pairs == 0 {
            0.0
        } else {
            (changes as f64 * 1000.0 / pairs as f64).round() / 1000.0
        },
    }
}

/// The timelines as text, for `pmconf report history CASE`.
pub fn timeline_text(case: &str, timelines: &[EngineTimeline]) -> String {
    let mut out = format!("pmconf report history: {case}\n");
    if timelines.is_empty() {
        out.push_str("no night ran this case\n");
    }
    for t in timelines {
        out.push_str(&format!("\n{} (flip rate {:.2}):\n", t.engine, t.flip_rate));
        for s in &t.segments {
            out.push_str(&format!(
                "  {:<22} {} .. {} ({} night{}; version {})\n",
                s.label,
                s.first_night,
                s.last_night,
                s.nights,
                if s.nights == 1 { "" } else { "s" },
                version_range(&s.first_version, &s.last_version)
            ));
        }
        let absent = t.points.iter().filter(|p| !p.took_part).count();
        if absent > 0 {
            out.push_str(&format!(
                "  engine absent on {absent} night{} (its job produced no results)\n",
                if absent == 1 { "" } else { "s" }
            ));
        }
        for f in &t.flips {
            out.push_str(&format!("  changed: {}\n", f.words()));
        }
    }
    out
}

/// `130.0`, `130.0 .. 131.0`, `?`: one version reads as one version.
pub fn version_range(first: &Option<String>, last: &Option<String>) -> String {
    match (first, last) {
        (Some(a), Some(b)) if a != b => format!("{a} .. {b}"),
        (Some(a), _) | (None, Some(a)) => a.clone(),
        (None, None) => "?".into(),
    }
}

/// The timelines as Markdown.
pub fn timeline_markdown(case: &str, timelines: &[EngineTimeline]) -> String {
    use super::diff_format::md_cell;
    let mut out = format!(
        "## History of `{}`\n\n| engine | status | first night | last night | nights | version |\n|---|---|---|---|---:|---|\n",
        md_cell(case)
    );
    for t in timelines {
        for s in &t.segments {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                md_cell(&t.engine),
                md_cell(&s.label),
                md_cell(&s.first_night),
                md_cell(&s.last_night),
                s.nights,
                md_cell(&version_range(&s.first_version, &s.last_version))
            ));
        }
    }
    out.push_str("\n| engine | flip rate | changes |\n|---|---:|---|\n");
    for t in timelines {
        let flips: Vec<String> = t.flips.iter().map(Flip::words).collect();
        out.push_str(&format!(
            "| {} | {:.2} | {} |\n",
            md_cell(&t.engine),
            t.flip_rate,
            md_cell(&flips.join("; "))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_range_of_one_version_reads_as_one_version() {
        let v = |s: &str| Some(s.to_owned());
        assert_eq!(version_range(&v("131.0"), &v("131.0")), "131.0");
        assert_eq!(version_range(&v("130.0"), &v("131.0")), "130.0 .. 131.0");
        let flip = |a: &str, b: &str| Flip {
            from: "conforms".into(),
            to: "diverges".into(),
            last_night_before: "n1".into(),
            version_before: v(a),
            first_night_after: "n2".into(),
            version_after: v(b),
        };
        assert_eq!(
            flip("131.0", "131.0").words(),
            "conforms -> diverges in 131.0, between n1 and n2"
        );
        assert_eq!(
            flip("130.0", "131.0").words(),
            "conforms -> diverges between 130.0 (n1) and 131.0 (n2)"
        );
    }
}
