//! The facts at the top of a report: when the run started and ended, which
//! pmconf (version and revision), the command line, and the engines with
//! their browser versions. All of it comes from the record (the
//! `RunInfo`, `EngineStart`, `EngineSetupFailed` and `SuiteEnd` events).

use super::record::RunRecord;
use crate::run::info::InstanceInfo;

/// One labelled fact, as plain text (each report escapes it its own way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLine {
    /// `started`, `ended`, `pmconf`, `command`, `engines`.
    pub label: &'static str,
    /// The fact.
    pub value: String,
}

/// The header of a run, in display order. Without a `RunInfo` (a run that
/// did not send one), the time, pmconf and command lines say "not
/// recorded".
pub fn header_lines(record: &RunRecord) -> Vec<HeaderLine> {
    let line = |label, value| HeaderLine { label, value };
    let not_recorded = || "not recorded".to_owned();
    let mut lines = Vec::new();
    match &record.info {
        Some(info) => {
            lines.push(line("started", format_utc(info.started_unix_ms)));
            lines.push(line(
                "ended",
                match (record.ended_unix_ms(), record.suite_seconds) {
                    (Some(end), Some(seconds)) => {
                        format!("{} ({seconds:.1} s)", format_utc(end))
                    }
                    _ => "not ended: the run was cut short".to_owned(),
                },
            ));
            lines.push(line(
                "pmconf",
                format!(
                    "{}, revision {} ({})",
                    info.pmconf_version, info.revision, info.revision_source
                ),
            ));
            lines.push(line("command", shell_words(&info.command_line)));
        }
        None => {
            lines.push(line("started", not_recorded()));
            lines.push(line("pmconf", not_recorded()));
            lines.push(line("command", not_recorded()));
        }
    }
    let engines: Vec<String> = record
        .all_engines()
        .into_iter()
        .map(
            |engine| match (record.browser_version(engine), record.setup_failure(engine)) {
                (Some(version), _) => format!("{engine} {version}"),
                (None, Some(_)) => format!("{engine} (setup failed)"),
                (None, None) => format!("{engine} (did not start)"),
            },
        )
        .collect();
    lines.push(line(
        "engines",
        if engines.is_empty() {
            "none".to_owned()
        } else {
            engines.join(", ")
        },
    ));
    if let Some(info) = &record.info {
        for instance in &info.instances {
            lines.push(line("instance", describe_instance(instance)));
        }
    }
    lines
}

/// An engine instance in one line: `chromium-flags (chromium): browser
/// /usr/bin/chromium, driver /usr/bin/chromedriver, args --foo, compared
/// with chromium`.
pub fn describe_instance(instance: &InstanceInfo) -> String {
    let mut parts = Vec::new();
    if instance.location != "local" {
        parts.push(format!("remote {}", instance.location));
    }
    parts.push(format!(
        "browser {}",
        instance
            .browser
            .as_deref()
            .unwrap_or("as the endpoint chooses")
    ));
    if let Some(driver) = &instance.driver {
        parts.push(format!("driver {driver}"));
    }
    if !instance.args.is_empty() {
        parts.push(format!("args {}", shell_words(&instance.args)));
    }
    if let Some(other) = &instance.compare_with {
        parts.push(format!("compared with {other}'s accepted snapshots"));
    }
    format!(
        "{} ({}): {}",
        instance.name,
        instance.kind,
        parts.join(", ")
    )
}

/// A command line as it could be typed into a POSIX shell: arguments made
/// only of safe characters as they are, others in single quotes.
pub fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let safe = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
            if safe {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DD hh:mm:ss UTC`.
pub fn format_utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01),
/// after Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_match_date_1() {
        // Expected values from `date -u -d @SECONDS +%FT%TZ`.
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_795_851_311_999), "2026-11-28 07:35:11 UTC");
        assert_eq!(format_utc(4_107_542_399_000), "2100-02-28 23:59:59 UTC");
    }

    #[test]
    fn command_lines_quote_only_what_a_shell_would_split() {
        let args: Vec<String> = ["pmconf", "run", "cases/a b.yaml", "--html", "it's.html", ""]
            .map(str::to_owned)
            .to_vec();
        assert_eq!(
            shell_words(&args),
            "pmconf run 'cases/a b.yaml' --html 'it'\\''s.html' ''"
        );
    }
}
