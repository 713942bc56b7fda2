//! The trend chart: percent of cases conforming per engine, and the
//! interop score, over nights, as inline SVG.
//!
//! Lines that coincide (two engines conforming on as many cases) stay
//! visible: each series is drawn narrower than the one before it, so a
//! line drawn over another leaves the other's edges showing. A night an
//! engine did not take part in is a gap in its line; an interop score
//! over fewer engines than usual is a hollow point.

use super::page::esc;
use crate::nightly::history::NightEntry;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 120.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 30.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
];

/// The stroke width of the `index`th series drawn: each narrower than
/// the one before, the last (interop) 1.5.
fn stroke_width(index: usize, series: usize) -> f64 {
    1.5 + 2.0 * (series - 1 - index) as f64
}

/// The chart of `nights` (oldest first) for `engines`.
pub fn trend_chart(nights: &[NightEntry], engines: &[&str]) -> String {
    let n = nights.len();
    let x = |i: usize| {
        if n <= 1 {
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0
        } else {
            LEFT + i as f64 * (WIDTH - LEFT - RIGHT) / (n - 1) as f64
        }
    };
    let y = |percent: f64| TOP + (100.0 - percent) * (HEIGHT - TOP - BOTTOM) / 100.0;
    let mut svg = format!(
        "<svg id=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"percent of cases conforming per engine, and interop score, per night\">\n"
    );
    for p in [0.0, 50.0, 100.0] {
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{p}%</text>\n",
            WIDTH - RIGHT,
            LEFT - 4.0,
            y(p) + 3.0,
            y = y(p)
        ));
    }
    if let (Some(first), Some(last)) = (nights.first(), nights.last()) {
        svg.push_str(&format!(
            "<text x=\"{LEFT}\" y=\"{}\" font-size=\"10\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>\n",
            HEIGHT - 8.0,
            esc(&first.night),
            WIDTH - RIGHT,
            HEIGHT - 8.0,
            esc(&last.night)
        ));
    }
    let mut series: Vec<(String, Vec<Option<f64>>, &str, bool)> = engines
        .iter()
        .enumerate()
        .map(|(i, engine)| {
            let values = nights
                .iter()
                .map(|night| {
                    night
                        .engines
                        .get(*engine)
                        .filter(|e| e.total > 0)
                        .map(|e| e.conforms as f64 * 100.0 / e.total as f64)
                })
                .collect();
            (engine.to_string(), values, COLORS[i % COLORS.len()], false)
        })
        .collect();
    series.push((
        "interop".into(),
        nights.iter().map(|n| Some(n.interop_score)).collect(),
        "#000",
        true,
    ));
    let count = series.len();
    for (index, (name, values, color, dashed)) in series.iter().enumerate() {
        let width = stroke_width(index, count);
        // One polyline per run of nights with a value: an absent night is a gap.
        let mut runs: Vec<Vec<String>> = vec![vec![]];
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => {
                    runs.last_mut()
                        .expect("one run")
                        .push(format!("{:.1},{:.1}", x(i), y(*v)))
                }
                None => runs.push(vec![]),
            }
        }
        for points in runs.iter().filter(|r| !r.is_empty()) {
            svg.push_str(&format!(
                "<polyline data-series=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\" stroke-linejoin=\"round\"{} points=\"{}\"/>\n",
                esc(name),
                if *dashed {
                    " stroke-dasharray=\"4 3\""
                } else {
                    ""
                },
                points.join(" ")
            ));
        }
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                let night = &nights[i];
                let partial = *dashed && !night.absent.is_empty();
                svg.push_str(&format!(
                    "<circle data-series=\"{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\" fill=\"{}\" stroke=\"{color}\"><title>{} {}: {v:.1}%{}</title></circle>\n",
                    esc(name),
                    x(i),
                    y(*v),
                    width / 2.0 + 2.0,
                    if partial { "#fff" } else { color },
                    esc(name),
                    esc(&night.night),
                    if partial {
                        format!(
                            " (without {}: absent)",
                            esc(&night.absent.keys().cloned().collect::<Vec<_>>().join(", "))
                        )
                    } else {
                        String::new()
                    }
                ));
            }
        }
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{color}\">{}</text>\n",
            WIDTH - RIGHT + 10.0,
            TOP + 12.0 + 14.0 * index as f64,
            esc(name)
        ));
    }
    svg.push_str("</svg>\n");
    svg
}
