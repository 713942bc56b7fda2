//! pmconf harness library: the parts of the `pmconf` binary that tests use.
pub mod atomic;
pub mod case_files;
pub mod case_filter;
pub mod cli;
pub mod engine;
pub mod export;
pub mod fuzz;
pub mod gen;
pub mod known;
pub mod layout;
pub mod nightly;
pub mod report;
pub mod run;
pub mod server;
