//! The engines pmconf knows how to drive, named the way the command line
//! and result files name them.

use std::fmt;
use std::str::FromStr;

use super::description::EngineDescription;

/// One browser engine, driven through its own WebDriver server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineId {
    /// Chromium (Blink), driven by chromedriver.
    Chromium,
    /// Firefox ESR (Gecko), driven by geckodriver.
    Firefox,
    /// WebKitGTK's MiniBrowser, driven by WebKitWebDriver.
    WebKitGtk,
}

impl EngineId {
    /// Every engine, in the order reports list them.
    pub const ALL: [EngineId; 3] = [EngineId::Chromium, EngineId::Firefox, EngineId::WebKitGtk];

    /// The stable lowercase name used on the command line, in file names and
    /// in expectation keys: `chromium`, `firefox` or `webkitgtk`.
    pub const fn name(self) -> &'static str {
        match self {
            EngineId::Chromium => "chromium",
            EngineId::Firefox => "firefox",
            EngineId::WebKitGtk => "webkitgtk",
        }
    }

    /// What this engine needs and how it is launched (see [`EngineDescription`]).
    pub fn description(self) -> &'static EngineDescription {
        EngineDescription::of(self)
    }
}

impl fmt::Display for EngineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`EngineId::ALL`]'s names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown engine {given:?}: expected one of chromium, firefox, webkitgtk")]
pub struct UnknownEngine {
    /// The name as given.
    pub given: String,
}

impl FromStr for EngineId {
    type Err = UnknownEngine;

    /// Parses an engine name as printed by [`EngineId::name`], ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EngineId::ALL
            .into_iter()
            .find(|engine| engine.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownEngine {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str() {
        for engine in EngineId::ALL {
            assert_eq!(engine.name().parse::<EngineId>(), Ok(engine));
            assert_eq!(engine.to_string(), engine.name());
        }
    }

    #[test]
    fn parsing_ignores_case_and_surrounding_space() {
        assert_eq!("WebKitGTK".parse(), Ok(EngineId::WebKitGtk));
        assert_eq!(" Firefox ".parse(), Ok(EngineId::Firefox));
    }

    #[test]
    fn unknown_names_are_rejected_with_the_valid_list() {
        let error = "chrome".parse::<EngineId>().unwrap_err();
        assert_eq!(error.given, "chrome");
        assert!(error.to_string().contains("chromium, firefox, webkitgtk"));
        assert!("".parse::<EngineId>().is_err());
    }

    #[test]
    fn all_lists_each_engine_once_in_report_order() {
        assert_eq!(
            EngineId::ALL.map(EngineId::name),
            ["chromium", "firefox", "webkitgtk"]
        );
    }
}
