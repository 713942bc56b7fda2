//! A page per case: its links, its status per engine on the latest night,
//! its timeline over the last nights (older ones are summed up in the
//! version ranges, so a page does not grow with every night) with version
//! ranges and flip rates, the outcome diff against the model and the race
//! histogram.

/// Nights shown one by one in a case's timeline.
pub const TIMELINE_NIGHTS: usize = 30;

use super::page::{esc, known_links, link, page, status_class};
use super::SiteData;
use crate::nightly::diff::for_people;
use crate::nightly::status::{CaseStatus, Status};
use crate::nightly::timeline::version_range;
use crate::report::{histogram_rows, nearest_allowed, outcome_diff, DiffSide};
use crate::run::events::{CaseResult, SnapshotStatus};

/// The page of `case`.
pub fn case_page(data: &SiteData, case: &str) -> String {
    let meta = data.entry();
    let results = &data.results;
    let mut body = format!(
        "<p><a href=\"../index.html\">← {}</a></p>\n<h1 class=\"case\">{}</h1>\n",
        esc(&meta.night),
        esc(case)
    );
    let description = results
        .engine_names()
        .into_iter()
        .filter_map(|e| results.result(e, case))
        .map(|r| r.description.as_str())
        .find(|d| !d.is_empty());
    if let Some(d) = description {
        body.push_str(&format!("<p>{}</p>\n", esc(d)));
    }
    let mut links = Vec::new();
    if data.sources.iter().any(|c| c == case) {
        links.push(link(&format!("../src/{case}"), "case file (YAML)"));
    }
    if data.reproducers.iter().any(|c| c == case) {
        let stem = case.strip_suffix(".yaml").unwrap_or(case);
        links.push(link(
            &format!("../src/{stem}.html"),
            "standalone reproducer",
        ));
    }
    if !links.is_empty() {
        body.push_str(&format!("<p id=\"links\">{}</p>\n", links.join(" · ")));
    }

    // The latest night.
    body.push_str(&format!(
        "<h2>Night {}</h2>\n<table id=\"latest\"><tr><th>engine</th><th>version</th><th>status</th><th>known (filed bug)</th></tr>\n",
        esc(&meta.night)
    ));
    let engines = data.engines();
    for e in &engines {
        if let Some(a) = data.absent.get(*e) {
            body.push_str(&format!(
                "<tr><th>{}</th><td>?</td><td class=\"s-absent\" data-engine=\"{}\">engine absent: {}</td><td></td></tr>\n",
                esc(e),
                esc(e),
                esc(&a.reason)
            ));
            continue;
        }
        let status = results.result(e, case).map(CaseStatus::of);
        body.push_str(&format!(
            "<tr><th>{}</th><td>{}</td><td class=\"{}\" data-engine=\"{}\">{}</td><td>{}</td></tr>\n",
            esc(e),
            esc(results.browser_version(e).unwrap_or("?")),
            status_class(status.as_ref()),
            esc(e),
            esc(&status.as_ref().map_or("absent".into(), CaseStatus::label)),
            known_links(data.known.lookup(e, case))
        ));
    }
    body.push_str("</table>\n");

    // Timeline: the last nights one by one.
    let timelines = data
        .timelines
        .get(case)
        .map(|t| t.view(&data.nights))
        .unwrap_or_default();
    let first = data.nights.len().saturating_sub(TIMELINE_NIGHTS);
    body.push_str("<h2>Timeline</h2>\n");
    if first > 0 {
        body.push_str(&format!(
            "<p>The last {TIMELINE_NIGHTS} of {} nights; the version ranges below cover them all.</p>\n",
            data.nights.len()
        ));
    }
    body.push_str("<table id=\"timeline\"><tr><th>night</th>");
    for t in &timelines {
        body.push_str(&format!("<th>{}</th>", esc(&t.engine)));
    }
    body.push_str("</tr>\n");
    for (i, night) in data.nights.iter().enumerate().skip(first) {
        body.push_str(&format!("<tr><th>{}</th>", esc(&night.night)));
        for t in &timelines {
            let p = &t.points[i];
            let class = if p.took_part {
                status_class(p.status.as_ref())
            } else {
                "s-absent"
            };
            body.push_str(&format!(
                "<td class=\"{}\" title=\"{}\">{}</td>",
                class,
                esc(p.version.as_deref().unwrap_or("?")),
                esc(&p.label())
            ));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</table>\n<h2>Version ranges</h2>\n<table id=\"segments\"><tr><th>engine</th><th>status</th><th>first night</th><th>last night</th><th>nights</th><th>engine versions</th></tr>\n");
    for t in &timelines {
        for s in &t.segments {
            body.push_str(&format!(
                "<tr><th>{}</th><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                esc(&t.engine),
                status_class(s.status.as_ref()),
                esc(&s.label),
                esc(&s.first_night),
                esc(&s.last_night),
                s.nights,
                esc(&version_range(&s.first_version, &s.last_version))
            ));
        }
    }
    body.push_str("</table>\n<table id=\"flips\"><tr><th>engine</th><th>flip rate</th><th>changes (engine versions between)</th></tr>\n");
    for t in &timelines {
        let flips: Vec<String> = t.flips.iter().map(|f| esc(&f.words())).collect();
        body.push_str(&format!(
            "<tr><th>{}</th><td class=\"n\">{:.2}</td><td>{}</td></tr>\n",
            esc(&t.engine),
            t.flip_rate,
            flips.join("<br>")
        ));
    }
    body.push_str("</table>\n");

    // Outcomes on the latest night.
    body.push_str("<h2>Outcomes against the model</h2>\n");
    for e in &engines {
        if let Some(r) = results.result(e, case) {
            body.push_str(&outcomes(e, r));
        }
    }
    page(&format!("pmconf: {case}"), &body, None)
}

fn outcomes(engine: &str, r: &CaseResult) -> String {
    let mut out = format!(
        "<section class=\"engine\" data-engine=\"{}\"><h3>{}: {}</h3>\n",
        esc(engine),
        esc(engine),
        esc(&CaseStatus::of(r).label())
    );
    if let SnapshotStatus::Changed { diff, .. } = &r.snapshot {
        out.push_str(&format!(
            "<details open><summary>snapshot diff (accepted to observed)</summary><pre>{}</pre></details>\n",
            esc(&for_people(diff))
        ));
    }
    if let Some(reason) = r.verdict.reason() {
        out.push_str(&format!("<p>{}</p>\n", esc(reason)));
    }
    if Status::of(r) == Status::Contested {
        out.push_str("<p>Contested: an open issue of the HTML Standard leaves the outcome open (not a divergence).</p>\n<ul class=\"contested\">");
        for (issue, reason) in crate::report::contested::issues_of(r) {
            out.push_str(&format!(
                "<li>{}: {}</li>",
                link(&issue, &issue),
                esc(&reason)
            ));
        }
        out.push_str("</ul>\n");
    }
    if matches!(Status::of(r), Status::Diverges { .. }) {
        if let Some(observed) = &r.observed {
            if let Some(i) = nearest_allowed(observed, &r.allowed) {
                out.push_str(&format!(
                    "<p>Observed, against the nearest of the {} allowed outcomes (#{}):</p>\n<pre class=\"diff\">",
                    r.allowed.len(),
                    i + 1
                ));
                for line in outcome_diff(&r.allowed[i], observed) {
                    let (class, mark) = match line.side {
                        DiffSide::Both => ("", ' '),
                        DiffSide::Allowed => ("del", '-'),
                        DiffSide::Observed => ("ins", '+'),
                    };
                    out.push_str(&format!(
                        "<span class=\"{class}\">{mark} {}</span>\n",
                        esc(&line.text)
                    ));
                }
                out.push_str("</pre>\n");
            }
        }
    }
    if r.runs > 1 || !r.histogram.is_empty() {
        out.push_str(&format!(
            "<table class=\"histogram\"><tr><th>outcome (runs: {})</th><th>runs</th><th>model</th></tr>\n",
            r.runs
        ));
        for row in histogram_rows(r) {
            out.push_str(&format!(
                "<tr class=\"{}\"><td><code>{}</code></td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                if row.allowed { "s-conforms" } else { "s-diverges" },
                esc(&row.summary),
                row.count,
                if row.allowed { "allowed" } else { "forbidden" }
            ));
        }
        if r.unobserved_runs > 0 {
            out.push_str(&format!(
                "<tr><td>observed nothing: {}</td><td class=\"n\">{}</td><td></td></tr>\n",
                esc(r.unobserved_reason.as_deref().unwrap_or("")),
                r.unobserved_runs
            ));
        }
        out.push_str("</table>\n");
    }
    out.push_str("</section>\n");
    out
}
