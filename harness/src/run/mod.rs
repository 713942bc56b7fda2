//! Running cases in real engines.

pub mod attempts;
pub mod channel;
pub mod driver;
pub mod events;
pub mod frames;
pub mod info;
pub mod liveness;
pub mod model_snapshots;
pub mod pages;
pub mod plan;
pub mod pool;
pub mod ports;
pub mod profile;
pub mod protocol;
pub mod restarts;
pub mod reuse;
pub mod script_calls;
pub mod shard;
pub mod snapshots;
pub mod state;
pub mod suite;
pub mod verdict;
pub mod via_channel;
pub mod via_webdriver;
pub mod worker;
