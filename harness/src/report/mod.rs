//! Reports: formatters of run events.
//!
//! As wptrunner's formatters do, every reporter here consumes only the
//! [`RunEvent`](crate::run::events::RunEvent) stream, so each one is tested
//! with synthetic events and no browser:
//!
//! - [`TerminalReporter`]: progress while running, then a summary table,
//!   the divergences as diffs, each race case's outcome histogram, and a
//!   one-line verdict.
//! - [`JsonReporter`]: one `pmconf-results/1` JSON file.
//! - [`WptReportReporter`]: one web-platform-tests `wptreport.json` per
//!   engine, for tools that already read that format.
//! - [`HtmlReporter`]: one self-contained static HTML page.
//! - [`JunitReporter`]: JUnit XML, one testsuite per engine, for CI test
//!   result viewers.
//! - [`MultiReporter`]: fans events out to several of the above.
//!
//! Contested results (outcomes an open issue of the HTML Standard leaves
//! open) are shown apart in each format, with the issue link
//! ([`contested`]).
//!
//! Reporters that write files collect the events in a [`RunRecord`] and
//! write in `finish`, atomically ([`crate::atomic::write_atomically`]), so a failed run
//! never leaves a partial file behind.
#![deny(missing_docs)]

mod calls;
pub mod contested;
mod engine_path;
mod escape;
mod header;
pub mod html;
pub mod json;
pub mod junit;
mod multi;
mod record;
mod render;
pub mod serve_page;
mod summary;
pub mod terminal;
mod triage;
pub mod wpt;

pub use calls::{
    annotate_snapshot_diff, describe_call, describe_post, outcome_diff_with_calls, outcome_text,
};
pub use engine_path::{engine_path, has_engine_placeholder, ENGINE_PLACEHOLDER};
pub use escape::{html_escape, terminal_safe};
pub use header::{describe_instance, format_utc, header_lines, shell_words, HeaderLine};
pub use html::{render_html, HtmlReporter};
pub use json::{results_json, JsonReporter, RESULTS_FORMAT};
pub use junit::{junit_xml, JunitReporter};
pub use multi::{MultiReporter, Tee};
pub use record::{EngineTiming, RunRecord, SetupFailure};
pub use render::{
    diff_text, histogram_rows, is_repeated, nearest_allowed, outcome_diff, outcome_summaries,
    render_outcome_yaml, snapshot_note, DiffLine, DiffSide, HistogramRow,
};
pub use summary::{Counts, EngineSummary, RunSummary};
pub use terminal::TerminalReporter;
pub use triage::{report_order, Action, Attention};
pub use wpt::{wpt_test_id, wptreport_json, WptReportReporter, WptRunInfo};
