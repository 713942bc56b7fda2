//! The front page: the latest night's header (with its age, counted by
//! the reader's clock, and the engines that were absent), what changed
//! since the night before, the interop score and the divergences one
//! engine has alone, two engines share, or all engines share, the trend
//! chart, and the case tree with filters kept in the URL. Every table
//! lists engines in one order (chromium, firefox, webkitgtk, then others).

use super::chart::trend_chart;
use super::page::{esc, known_links, link, page, status_class};
use super::{case_page_name, SiteData};
use crate::nightly::diff::{for_people, Direction};
use crate::nightly::job_summary::STALE_AFTER_MS;
use crate::nightly::order::engine_rank;
use crate::nightly::results::ResultsFile;
use crate::nightly::status::{CaseStatus, Status};
use std::collections::BTreeMap;

const FILTER_SCRIPT: &str = r#"(function () {
  var params = new URLSearchParams(location.search);
  var show = document.getElementById('show');
  var engine = document.getElementById('engine');
  if (params.get('show')) show.value = params.get('show');
  if (params.get('engine')) engine.value = params.get('engine');
  function apply() {
    var s = show.value, e = engine.value;
    document.querySelectorAll('#cases tr.case').forEach(function (tr) {
      var cells = [].slice.call(tr.querySelectorAll('td[data-engine]')).filter(function (td) {
        return (!e || td.getAttribute('data-engine') === e)
          && td.getAttribute('data-status') !== 'engine-absent';
      });
      var diverging = cells.some(function (td) { return td.getAttribute('data-status') !== 'conforms'; });
      var keep = s === 'all'
        || (s === 'diverging' && diverging)
        || (s === 'not-interop' && tr.getAttribute('data-interop') !== 'all')
        || (s === 'changed' && tr.getAttribute('data-changed') === '1');
      tr.hidden = !keep;
    });
    var q = new URLSearchParams();
    if (s !== 'all') q.set('show', s);
    if (e) q.set('engine', e);
    var search = q.toString() ? '?' + q.toString() : '';
    if (search !== location.search) history.replaceState(null, '', search || location.pathname);
  }
  show.addEventListener('change', apply);
  engine.addEventListener('change', apply);
  apply();
})();
"#;

/// Says how long ago the night started, as the page is read (the site is
/// built once a night: if the nightly stops, only the reader's clock can
/// tell), and marks it stale past a day and a half.
const AGE_SCRIPT: &str = r#"(function () {
  var el = document.getElementById('age');
  var started = el && Number(el.getAttribute('data-started-unix-ms'));
  if (!started) return;
  var ms = Date.now() - started;
  var hours = Math.max(0, Math.floor(ms / 3600000));
  el.textContent = hours < 48 ? hours + ' h ago' : Math.floor(hours / 24) + ' days ago';
  if (ms > Number(el.getAttribute('data-stale-after-ms'))) {
    el.className = 'stale';
    el.textContent += ': stale, the nightly may have stopped (a failed run, or a schedule GitHub disabled)';
  }
})();
"#;

/// The front page of `data`'s latest night.
pub fn front_page(data: &SiteData) -> String {
    let meta = data.entry();
    let engines = data.engines();
    let mut body = format!("<h1>pmconf nightly: {}</h1>\n", esc(&meta.night));
    body.push_str(&header(data));
    body.push_str(&changes(data));
    body.push_str(&interop(data, &data.results, &engines));
    body.push_str("<h2 id=\"trend-title\">Trend</h2>\n");
    body.push_str(&trend_chart(&data.nights, &engines));
    body.push_str(&case_tree(data, &data.results, &engines));
    page(
        &format!("pmconf nightly {}", meta.night),
        &body,
        Some(&format!("{FILTER_SCRIPT}{AGE_SCRIPT}")),
    )
}

fn header(data: &SiteData) -> String {
    let meta = data.entry();
    let mut out = String::from("<dl class=\"header\" id=\"night\">\n");
    if let Some(started) = &meta.started_at {
        out.push_str(&format!(
            "<dt>started</dt><dd>{} (<span id=\"age\" data-started-unix-ms=\"{}\" data-stale-after-ms=\"{}\">age unknown</span>)</dd>\n",
            esc(started),
            meta.started_unix_ms.unwrap_or(0),
            STALE_AFTER_MS
        ));
    }
    out.push_str(&format!(
        "<dt>pmconf revision</dt><dd><code>{}</code></dd>\n",
        esc(meta.revision.as_deref().unwrap_or("unknown"))
    ));
    out.push_str(&format!(
        "<dt>run</dt><dd>{}</dd>\n",
        meta.run_link
            .as_deref()
            .map_or("unknown".into(), |l| link(l, l))
    ));
    for engine in data.engines() {
        if let Some(a) = data.absent.get(engine) {
            out.push_str(&format!(
                "<dt>{}</dt><dd class=\"s-absent\" data-engine=\"{}\" data-absent=\"1\">absent this night: {}{}</dd>\n",
                esc(engine),
                esc(engine),
                esc(&a.reason),
                a.link
                    .as_deref()
                    .map_or(String::new(), |l| format!(" ({})", link(l, "run")))
            ));
            continue;
        }
        let e = meta.engines.get(engine);
        let count = |n: usize, class: &str, attr: &str, one: &str, many: &str| match n {
            0 => String::new(),
            n => format!(
                "; <span class=\"{class}\" data-{attr}=\"{n}\">{n} {}</span>",
                if n == 1 { one } else { many }
            ),
        };
        out.push_str(&format!(
            "<dt>{}</dt><dd data-engine=\"{}\">version {}; {:.1} s over {} cases{}{}</dd>\n",
            esc(engine),
            esc(engine),
            esc(e.and_then(|e| e.version.as_deref()).unwrap_or("?")),
            e.map_or(0.0, |e| e.seconds),
            e.map_or(0, |e| e.total),
            count(
                e.map_or(0, |e| e.contested),
                "s-contested",
                "contested",
                "contested",
                "contested"
            ),
            count(
                e.map_or(0, |e| e.accepted),
                "s-diverges",
                "accepted",
                "divergence accepted (its snapshot records it)",
                "divergences accepted (their snapshots record them)"
            ),
        ));
    }
    for failure in data
        .results
        .setup_failures
        .iter()
        .filter(|f| !data.absent.contains_key(&f.engine))
    {
        out.push_str(&format!(
            "<dt>{}</dt><dd>failed to start: {}</dd>\n",
            esc(&failure.engine),
            esc(&failure.error)
        ));
    }
    out.push_str(&format!(
        "<dt>nights recorded</dt><dd>{} ({} .. {})</dd>\n</dl>\n",
        data.nights.len(),
        esc(&data.nights[0].night),
        esc(&meta.night)
    ));
    out
}

fn changes(data: &SiteData) -> String {
    let Some(diff) = &data.diff else {
        return "<h2>Changes</h2>\n<p>First night recorded: nothing to compare with.</p>\n".into();
    };
    let mut out = String::from(
        "<h2>Changes since the night before</h2>\n<table id=\"deltas\"><tr><th>engine</th><th>improved</th><th>regressed</th><th>changed</th></tr>\n",
    );
    let mut deltas: Vec<_> = diff.engines.iter().collect();
    deltas.sort_by(|a, b| engine_rank(&a.engine).cmp(&engine_rank(&b.engine)));
    for e in deltas {
        if let Some(why) = &e.not_compared {
            out.push_str(&format!(
                "<tr data-engine=\"{}\"><th>{}</th><td colspan=\"3\">{}</td></tr>\n",
                esc(&e.engine),
                esc(&e.engine),
                esc(why.lines().next().unwrap_or(""))
            ));
            continue;
        }
        out.push_str(&format!(
            "<tr data-engine=\"{}\"><th>{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            esc(&e.engine),
            esc(&e.engine),
            e.improved,
            e.regressed,
            e.changed
        ));
    }
    out.push_str("</table>\n");
    if diff.changes.is_empty() {
        out.push_str("<p id=\"changes\">No changes.</p>\n");
        return out;
    }
    out.push_str("<table id=\"changes\"><tr><th>change</th><th>engine</th><th>case</th><th>status</th><th>cause</th><th>known (filed bug)</th></tr>\n");
    for c in &diff.changes {
        let class = match c.kind.direction() {
            Direction::Improved => "improved",
            Direction::Regressed => "regressed",
            Direction::Changed => "changed",
        };
        let causes: Vec<String> = c.causes.iter().map(|c| c.words()).collect();
        out.push_str(&format!(
            "<tr class=\"{class}\" data-kind=\"{}\" data-engine=\"{}\"><td>{}</td><td>{}</td><td class=\"case\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&serde_json::to_value(c.kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()),
            esc(&c.engine),
            esc(c.kind.words()),
            esc(&c.engine),
            link(&format!("case/{}", case_page_name(&c.case)), &c.case),
            esc(&c.transition())
                + &c.snapshot_diff.as_deref().map_or(String::new(), |d| format!(
                    "<details><summary>snapshot diff</summary><pre>{}</pre></details>",
                    esc(&for_people(d))
                )),
            esc(&causes.join(", ")),
            known_links(data.known.lookup(&c.engine, &c.case))
        ));
    }
    out.push_str("</table>\n");
    out
}

/// Which engines conform on `case`, and how many ran it.
fn conforming(results: &ResultsFile, engines: &[&str], case: &str) -> (usize, usize) {
    let ran: Vec<Status> = engines
        .iter()
        .filter_map(|e| results.result(e, case).map(Status::of))
        .collect();
    (
        ran.iter().filter(|s| **s == Status::Conforms).count(),
        ran.len(),
    )
}

fn interop(data: &SiteData, results: &ResultsFile, engines: &[&str]) -> String {
    let meta = data.entry();
    let over = if data.absent.is_empty() {
        String::new()
    } else {
        format!(
            " <span id=\"interop-over\">(over the {} engines that took part; absent: {})</span>",
            meta.engines.len(),
            esc(&data.absent.keys().cloned().collect::<Vec<_>>().join(", "))
        )
    };
    let mut out = format!(
        "<h2>Interop</h2>\n<p>Cases on which every engine conforms: <span class=\"score\" id=\"interop-score\" data-score=\"{:.1}\">{:.1}%</span>{over}</p>\n",
        meta.interop_score, meta.interop_score
    );
    let contested: Vec<&str> = results
        .cases()
        .into_iter()
        .filter(|case| {
            engines.iter().any(|e| {
                results
                    .result(e, case)
                    .is_some_and(|r| Status::of(r) == Status::Contested)
            })
        })
        .collect();
    if !contested.is_empty() {
        out.push_str(&format!(
            "<p id=\"contested\" data-contested=\"{}\">{} cases with a contested result (an outcome an open issue of the HTML Standard leaves open): not counted as conforming in the score, nor as divergences.</p>\n",
            contested.len(),
            contested.len()
        ));
    }
    let mut alone = String::new();
    let mut shared = String::new();
    let mut consensus = String::new();
    for case in results.cases() {
        let statuses: Vec<(&str, Status)> = engines
            .iter()
            .filter_map(|e| results.result(e, case).map(|r| (*e, Status::of(r))))
            .collect();
        if statuses.len() < 2 {
            continue;
        }
        let diverging: Vec<&(&str, Status)> = statuses
            .iter()
            .filter(|(_, s)| matches!(s, Status::Diverges { .. }))
            .collect();
        let rest_conform = statuses
            .iter()
            .filter(|(_, s)| matches!(s, Status::Conforms | Status::Contested))
            .count()
            == statuses.len() - diverging.len();
        let page = format!("case/{}", case_page_name(case));
        let links_of = |who: &[&(&str, Status)]| {
            let mut links: Vec<String> = who
                .iter()
                .map(|(e, _)| known_links(data.known.lookup(e, case)))
                .filter(|l| !l.is_empty())
                .collect();
            links.dedup();
            links.join(" ")
        };
        if diverging.len() == 1 && rest_conform {
            let engine = diverging[0].0;
            alone.push_str(&format!(
                "<tr data-engine=\"{}\"><td class=\"case\">{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(engine),
                link(&page, case),
                esc(engine),
                known_links(data.known.lookup(engine, case))
            ));
        }
        if diverging.len() == 2 && statuses.len() > 2 && rest_conform {
            let names: Vec<&str> = diverging.iter().map(|(e, _)| *e).collect();
            let same = diverging[0].1 == diverging[1].1;
            shared.push_str(&format!(
                "<tr data-engines=\"{}\"><td class=\"case\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&names.join(" ")),
                link(&page, case),
                esc(&names.join(", ")),
                if same { "the same" } else { "different" },
                links_of(&diverging)
            ));
        }
        if diverging.len() == statuses.len() && statuses.windows(2).all(|w| w[0].1 == w[1].1) {
            let all: Vec<&(&str, Status)> = statuses.iter().collect();
            consensus.push_str(&format!(
                "<tr><td class=\"case\">{}</td><td>{}</td><td>{}</td></tr>\n",
                link(&page, case),
                statuses.len(),
                links_of(&all)
            ));
        }
    }
    let section = |title: &str, id: &str, head: &str, rows: &str| {
        let mut s = format!("<h3>{title}</h3>\n");
        if rows.is_empty() {
            s.push_str(&format!("<p id=\"{id}\">None.</p>\n"));
        } else {
            s.push_str(&format!(
                "<table id=\"{id}\"><tr>{head}</tr>\n{rows}</table>\n"
            ));
        }
        s
    };
    out.push_str(&section(
        "Engine-specific divergences (one engine alone)",
        "engine-specific",
        "<th>case</th><th>engine</th><th>known (filed bug)</th>",
        &alone,
    ));
    out.push_str(&section(
        "Divergences two engines share (the others conform)",
        "shared",
        "<th>case</th><th>engines</th><th>forbidden outcomes</th><th>known (filed bug)</th>",
        &shared,
    ));
    out.push_str(&section(
        "Consensus divergences (every engine agrees on an outcome the model forbids: is the model, or the standard, wrong?)",
        "consensus",
        "<th>case</th><th>engines</th><th>known (filed bug)</th>",
        &consensus,
    ));
    out
}

fn case_tree(data: &SiteData, results: &ResultsFile, engines: &[&str]) -> String {
    let changed: Vec<(&str, &str)> = data
        .diff
        .iter()
        .flat_map(|d| {
            d.changes
                .iter()
                .map(|c| (c.case.as_str(), c.engine.as_str()))
        })
        .collect();
    let mut out = String::from("<h2>Cases</h2>\n<form class=\"filters\">show <select id=\"show\"><option value=\"all\">all cases</option><option value=\"diverging\">not conforming</option><option value=\"not-interop\">not every engine conforming</option><option value=\"changed\">changed since the night before</option></select> in <select id=\"engine\"><option value=\"\">any engine</option>");
    for e in engines {
        out.push_str(&format!("<option value=\"{0}\">{0}</option>", esc(e)));
    }
    out.push_str("</select></form>\n<table id=\"cases\"><thead><tr><th>case</th>");
    for e in engines {
        let absent = if data.absent.contains_key(*e) {
            " (absent)"
        } else {
            ""
        };
        out.push_str(&format!("<th data-engine=\"{0}\">{0}{absent}</th>", esc(e)));
    }
    out.push_str("<th>interop</th></tr></thead>\n<tbody>\n");
    // Directory -> cases.
    let mut tree: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for case in results.cases() {
        let dir = case.rsplit_once('/').map_or("", |(d, _)| d);
        tree.entry(dir.to_owned()).or_default().push(case);
    }
    let all: Vec<&str> = results.cases();
    out.push_str(&count_row("totals", "all cases", results, engines, &all));
    for (dir, cases) in &tree {
        out.push_str(&count_row(
            "dir",
            &format!("{dir}/"),
            results,
            engines,
            cases,
        ));
        for case in cases {
            let (conform, ran) = conforming(results, engines, case);
            let interop = if conform == ran {
                "all"
            } else if conform == 0 {
                "none"
            } else {
                "some"
            };
            let is_changed = changed.iter().any(|(c, _)| c == case);
            out.push_str(&format!(
                "<tr class=\"case\" data-case=\"{}\" data-interop=\"{interop}\" data-changed=\"{}\"><th class=\"case\">{}</th>",
                esc(case),
                u8::from(is_changed),
                link(&format!("case/{}", case_page_name(case)), case.rsplit('/').next().unwrap_or(case))
            ));
            for e in engines {
                if data.absent.contains_key(*e) {
                    out.push_str(&format!(
                        "<td class=\"s-absent\" data-engine=\"{}\" data-status=\"engine-absent\">engine absent</td>",
                        esc(e)
                    ));
                    continue;
                }
                let status = results.result(e, case).map(CaseStatus::of);
                let known = status
                    .as_ref()
                    .filter(|s| matches!(s.status, Status::Diverges { .. }))
                    .and_then(|_| data.known.lookup(e, case));
                out.push_str(&format!(
                    "<td class=\"{}\" data-engine=\"{}\" data-status=\"{}\">{}{}</td>",
                    status_class(status.as_ref()),
                    esc(e),
                    esc(status.as_ref().map_or("absent", |s| s.status.word())),
                    esc(&status.as_ref().map_or("absent".into(), CaseStatus::label)),
                    if known.is_some() {
                        format!(" {}", known_links(known))
                    } else {
                        String::new()
                    }
                ));
            }
            out.push_str(&format!(
                "<td class=\"n\" data-conforming=\"{conform}\" data-ran=\"{ran}\">{conform}/{ran}</td></tr>\n"
            ));
        }
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A row of per-engine `conforms/total` over `cases` (contested results
/// are not counted as conforming; a cell with some says how many).
fn count_row(
    class: &str,
    label: &str,
    results: &ResultsFile,
    engines: &[&str],
    cases: &[&str],
) -> String {
    let mut out = format!(
        "<tr class=\"{class}\" data-dir=\"{}\"><th>{}</th>",
        esc(label),
        esc(label)
    );
    for e in engines {
        let mut conforms = 0;
        let mut contested = 0;
        let mut total = 0;
        for case in cases {
            if let Some(r) = results.result(e, case) {
                total += 1;
                match Status::of(r) {
                    Status::Conforms => conforms += 1,
                    Status::Contested => contested += 1,
                    _ => {}
                }
            }
        }
        let contested = match contested {
            0 => String::new(),
            n => format!(" data-contested=\"{n}\" title=\"{n} contested\""),
        };
        out.push_str(&format!(
            "<td class=\"n\" data-engine=\"{}\" data-conforms=\"{conforms}\" data-total=\"{total}\"{contested}>{conforms}/{total}</td>",
            esc(e)
        ));
    }
    let all_conform = cases
        .iter()
        .filter(|c| {
            let (conform, ran) = conforming(results, engines, c);
            conform == ran
        })
        .count();
    out.push_str(&format!(
        "<td class=\"n\">{all_conform}/{}</td></tr>\n",
        cases.len()
    ));
    out
}
