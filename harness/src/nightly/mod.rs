//! Nightly conformance reports: reading results files, merging the shards
//! of one night, diffing two nights, the history of many nights in a data
//! directory, the known-divergences metadata and the static site.
//!
//! Everything here reads `pmconf-results/1` files (or night directories of
//! a history) and never runs a browser, so each part is tested with
//! synthetic results files.
#![deny(missing_docs)]

pub mod diff;
pub mod diff_format;
mod error;
pub mod history;
pub mod job_summary;
/// Known divergences live at the crate root ([`crate::known`]: JUnit uses
/// them too); kept here under their old path for existing callers.
pub use crate::known;
pub mod merge;
pub mod results;
pub mod site;
pub mod status;
pub mod timeline;

pub use error::NightlyError;
