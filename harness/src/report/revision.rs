//! The pmconf revision a run names in its reports.

/// The full commit hash of the pmconf that runs: `PMCONF_REVISION`, else
/// `GITHUB_SHA` (set in GitHub Actions), else `git rev-parse HEAD` in the
/// current directory; `None` when none of them gives a 40-digit hash.
pub fn pmconf_revision() -> Option<String> {
    let is_hash = |s: &str| s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit());
    for var in ["PMCONF_REVISION", "GITHUB_SHA"] {
        if let Some(v) = std::env::var(var).ok().filter(|v| is_hash(v.trim())) {
            return Some(v.trim().to_ascii_lowercase());
        }
    }
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let hash = text.trim();
    (out.status.success() && is_hash(hash)).then(|| hash.to_owned())
}
