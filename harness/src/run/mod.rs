//! Running cases in real engines.

pub mod events;
pub mod pages;
pub mod plan;
pub mod state;
pub mod verdict;
