//! A [`NightDiff`] as text, Markdown or JSON.

use super::diff::{ChangeKind, NightDiff};
use serde_json::json;

/// Lines of a snapshot diff shown under a change in text.
const DIFF_LINES: usize = 12;

/// Plain text: one line per engine, then one block per kind of change.
pub fn diff_text(diff: &NightDiff) -> String {
    let mut out = format!("pmconf report diff: {} -> {}\n", diff.old, diff.new);
    for e in &diff.engines {
        if let Some(why) = &e.not_compared {
            out.push_str(&format!("{:<10} {}\n", e.engine, first_line(why)));
            continue;
        }
        out.push_str(&format!(
            "{:<10} {} improved, {} regressed, {} changed{}\n",
            e.engine,
            e.improved,
            e.regressed,
            e.changed,
            version_words(&e.from_version, &e.to_version)
        ));
    }
    if diff.changes.is_empty() {
        out.push_str("no changes\n");
        return out;
    }
    for kind in ChangeKind::ALL {
        let of_kind: Vec<_> = diff.changes.iter().filter(|c| c.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{} ({}):\n", kind.words(), of_kind.len()));
        for c in of_kind {
            let causes: Vec<String> = c.causes.iter().map(|c| c.words()).collect();
            out.push_str(&format!(
                "  {:<10} {}: {}; cause: {}",
                c.engine,
                c.case,
                c.transition(),
                causes.join(", ")
            ));
            if let Some(known) = &c.known {
                out.push_str(&format!("; known: {known}"));
            }
            out.push('\n');
            if let Some(diff) = &c.snapshot_diff {
                for line in diff.lines().take(DIFF_LINES) {
                    out.push_str(&format!("      {line}\n"));
                }
                if diff.lines().count() > DIFF_LINES {
                    out.push_str("      …\n");
                }
            }
        }
    }
    out
}

fn version_words(from: &Option<String>, to: &Option<String>) -> String {
    match (from, to) {
        (Some(f), Some(t)) if f != t => format!(" (version {f} -> {t})"),
        (Some(f), Some(_)) => format!(" (version {f})"),
        (None, Some(t)) => format!(" (version {t}, not run before)"),
        (Some(f), None) => format!(" (version {f}, not run now)"),
        (None, None) => String::new(),
    }
}

/// The first line of a (setup failure) message.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// Escapes a Markdown table cell.
pub fn md_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('\n', " ")
}

/// Markdown: a table of engines, then a table of changes.
pub fn diff_markdown(diff: &NightDiff) -> String {
    let mut out = format!(
        "## Changes: {} → {}\n\n| engine | version | improved | regressed | changed |\n|---|---|---:|---:|---:|\n",
        md_cell(&diff.old),
        md_cell(&diff.new)
    );
    for e in &diff.engines {
        if let Some(why) = &e.not_compared {
            out.push_str(&format!(
                "| {} | {} | | | |\n",
                md_cell(&e.engine),
                md_cell(first_line(why))
            ));
            continue;
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            md_cell(&e.engine),
            md_cell(version_words(&e.from_version, &e.to_version).trim()),
            e.improved,
            e.regressed,
            e.changed
        ));
    }
    if diff.changes.is_empty() {
        out.push_str("\nNo changes.\n");
        return out;
    }
    out.push_str(
        "\n| kind | engine | case | status | cause | known |\n|---|---|---|---|---|---|\n",
    );
    for c in &diff.changes {
        let causes: Vec<String> = c.causes.iter().map(|c| c.words()).collect();
        out.push_str(&format!(
            "| {} | {} | `{}` | {} | {} | {} |\n",
            c.kind.words(),
            md_cell(&c.engine),
            md_cell(&c.case),
            md_cell(&c.transition()),
            md_cell(&causes.join(", ")),
            md_cell(c.known.as_deref().unwrap_or(""))
        ));
    }
    out
}

/// JSON: `{"format": "pmconf-diff/1", old, new, engines, changes}`.
pub fn diff_json(diff: &NightDiff) -> serde_json::Value {
    json!({
        "format": "pmconf-diff/1",
        "old": diff.old,
        "new": diff.new,
        "engines": diff.engines,
        "changes": diff.changes,
    })
}
