//! A case's timeline across nights, per engine: its status each night,
//! the runs of nights with one status (first and last night, engine
//! versions), the engine version range in which each change happened, and
//! how often it flips.

use super::results::ResultsFile;
use super::status::CaseStatus;
use serde::Serialize;

/// One night of a case in one engine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// The night.
    pub night: String,
    /// The engine's version that night.
    pub version: Option<String>,
    /// The status, or `None` when the case did not run in the engine.
    pub status: Option<CaseStatus>,
}

/// Consecutive nights with one status.
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
    /// E.g. `conforms -> diverges between 130.0 (2026-11-01) and 131.0 (2026-11-02)`.
    pub fn words(&self) -> String {
        format!(
            "{} -> {} between {} ({}) and {} ({})",
            self.from,
            self.to,
            self.version_before.as_deref().unwrap_or("?"),
            self.last_night_before,
            self.version_after.as_deref().unwrap_or("?"),
            self.first_night_after
        )
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
    /// Changes of status per pair of consecutive nights that both ran the
    /// case (0 when fewer than two did).
    pub flip_rate: f64,
}

/// The timeline of `case` over `nights` (id and results, oldest first),
/// for every engine that ran it on any night.
pub fn timeline(nights: &[(&str, &ResultsFile)], case: &str) -> Vec<EngineTimeline> {
    let mut engines: Vec<&str> = Vec::new();
    for (_, results) in nights {
        for r in results.results.iter().filter(|r| r.case == case) {
            if !engines.contains(&r.engine.as_str()) {
                engines.push(&r.engine);
            }
        }
    }
    engines
        .into_iter()
        .map(|engine| engine_timeline(nights, case, engine))
        .collect()
}

fn engine_timeline(nights: &[(&str, &ResultsFile)], case: &str, engine: &str) -> EngineTimeline {
    let points: Vec<Point> = nights
        .iter()
        .map(|(night, results)| Point {
            night: (*night).to_owned(),
            version: results.browser_version(engine).map(String::from),
            status: results.result(engine, case).map(CaseStatus::of),
        })
        .collect();
    let mut segments: Vec<Segment> = Vec::new();
    for p in &points {
        match segments.last_mut() {
            Some(s) if s.status == p.status => {
                s.last_night = p.night.clone();
                s.last_version = p.version.clone();
                s.nights += 1;
            }
            _ => segments.push(Segment {
                label: p.status.as_ref().map_or("absent".into(), CaseStatus::label),
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
    let pairs = points
        .windows(2)
        .filter(|w| w[0].status.is_some() && w[1].status.is_some())
        .count();
    let changes = points
        .windows(2)
        .filter(|w| w[0].status.is_some() && w[1].status.is_some() && w[0].status != w[1].status)
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
        for f in &t.flips {
            out.push_str(&format!("  changed: {}\n", f.words()));
        }
    }
    out
}

/// `130.0`, `130.0 .. 131.0`, `?`.
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
