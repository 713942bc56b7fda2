//! Per-engine output paths: `out/x-{engine}.json`, or `-<engine>` before
//! the extension when the pattern has no placeholder.

use std::path::{Path, PathBuf};

/// The placeholder in a path pattern that stands for the engine's name.
pub const ENGINE_PLACEHOLDER: &str = "{engine}";

/// The file for `engine` under `pattern`: the placeholder replaced, or
/// `-<engine>` put before the extension (`out/wpt.json` becomes
/// `out/wpt-firefox.json`), so engines never overwrite each other.
pub fn engine_path(pattern: &Path, engine: &str) -> PathBuf {
    if let Some(p) = pattern.to_str().filter(|p| p.contains(ENGINE_PLACEHOLDER)) {
        return PathBuf::from(p.replace(ENGINE_PLACEHOLDER, engine));
    }
    let mut name = pattern.file_stem().unwrap_or_default().to_os_string();
    name.push("-");
    name.push(engine);
    if let Some(extension) = pattern.extension() {
        name.push(".");
        name.push(extension);
    }
    pattern.with_file_name(name)
}

/// Whether `pattern` names one file per engine.
pub fn has_engine_placeholder(pattern: &Path) -> bool {
    pattern
        .to_str()
        .is_some_and(|p| p.contains(ENGINE_PLACEHOLDER))
}
