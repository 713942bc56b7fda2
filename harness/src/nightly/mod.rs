//! Nightly conformance reports: reading results files, merging the shards
//! of one night, diffing two nights, the history of many nights in a data
//! directory (stored per case, updated night by night), the regressions a
//! maintainer is told about, and the static site.
//!
//! Everything here reads `pmconf-results/1` files (or a history) and never
//! runs a browser, so each part is tested with results files written by
//! the run's own JSON reporter.
#![deny(missing_docs)]

pub mod diff;
pub mod diff_format;
mod error;
pub mod history;
pub mod job_summary;
pub mod merge;
pub mod order;
pub mod regressions;
pub mod results;
pub mod site;
pub mod status;
pub mod store;
pub mod timeline;

pub use error::NightlyError;
