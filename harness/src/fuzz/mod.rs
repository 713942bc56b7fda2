//! Fuzzing: what happens to generated cases ([`crate::gen`]) once the
//! engines run them.
//!
//! - [`campaign`], [`race_campaign`]: `pmconf fuzz` and `pmconf fuzz
//!   --races`, from the seed to the saved findings (the command line and
//!   what is printed are `cli/fuzz.rs` and `cli/fuzz_races.rs`).
//! - [`oracle`]: what the shrinkers ask of an engine, and the
//!   [`EngineWorker`](crate::run::worker::EngineWorker) adapters that answer.
//! - [`shrink`], [`race_shrink`]: shrinking an origin divergence (proptest's
//!   value tree, then a polish) and a flaky race divergence (the search and
//!   the reducer).
//! - [`divergences`], [`findings`], [`race_reducer`]: what a race campaign
//!   found, findings told apart by the rules they break, and what becomes
//!   of each race divergence.
//! - [`save`], [`repro`], [`race_repro`]: findings written as cases with
//!   their snapshots and standalone HTML reproducers.
//!
//! Imports: `gen` (the cases), `run` and `engine` (the engines), `server`,
//! the leaves (`layout`, `atomic`, `case_files`) and `report`'s HTML
//! escaping; nothing imports `fuzz` but `cli`
//! (`harness/tests/import_structure.rs`).

pub mod campaign;
pub mod divergences;
pub mod findings;
pub mod oracle;
pub mod race_campaign;
pub mod race_reducer;
pub mod race_repro;
pub mod race_shrink;
pub mod repro;
pub mod save;
pub mod shrink;

/// Runs `f` to completion on a current-thread runtime (for tests of the
/// async shrinkers against stand-in oracles).
#[cfg(test)]
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}
