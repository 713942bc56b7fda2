//! Engine instances a user declares (`pmconf.toml`, or `--engines FILE`):
//! a local build or another channel beside the system browser of the same
//! kind, or a browser on a remote WebDriver endpoint.
//!
//! ```toml
//! [engines.chromium-local]
//! kind = "chromium"                       # chromium | firefox | webkitgtk
//! browser = "out/Release/chrome"          # optional: the system one otherwise; relative to this file
//! driver = "out/Release/chromedriver"     # optional: the system one otherwise
//! args = ["--enable-features=Foo"]        # optional: more browser arguments
//! compare_with = "chromium"               # optional: compare with its accepted snapshots
//!
//! [engines.nightly-on-grid]
//! kind = "firefox"
//! webdriver-url = "http://10.0.0.2:4444"
//! browser = "/opt/firefox-nightly/firefox" # optional: the path on the node
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Document, Item, Value};

use super::id::EngineId;
use super::instance::{EngineInstance, LocalBinaries, Location};

/// The file `pmconf` reads instances from when `--engines` is not given
/// (in the current directory; it is optional).
pub const DEFAULT_CONFIG: &str = "pmconf.toml";

/// An entry (or the file) that cannot be used: where, what, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}\n  fix: {fix}")]
pub struct ConfigError {
    /// The config file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// A declared instance and where it was declared (`file:line`), for
/// messages about it later (a binary that is missing, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredInstance {
    /// The instance.
    pub instance: EngineInstance,
    /// `file:line` of its table header.
    pub declared_at: String,
}

/// Reads `path`; every error found is returned, not only the first.
pub fn load_instances(path: &Path) -> Result<Vec<DeclaredInstance>, Vec<ConfigError>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError {
            file: file.clone(),
            line: 1,
            column: 1,
            message: format!("cannot read the engine file: {e}"),
            fix: "give an existing file to --engines".into(),
        }]
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    parse_instances(&text, &file, base)
}

/// Parses an engine file's `text`; relative paths are resolved against
/// `base` (the file's directory).
pub fn parse_instances(
    text: &str,
    file: &str,
    base: &Path,
) -> Result<Vec<DeclaredInstance>, Vec<ConfigError>> {
    let mut errors = Errors {
        text,
        file,
        found: Vec::new(),
    };
    let document = match Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            errors.at(
                Some(span),
                format!("not valid TOML: {}", e.message()),
                "write TOML: [engines.NAME] tables with kind = \"chromium\" and browser = \"PATH\" or webdriver-url = \"URL\"",
            );
            return Err(errors.found);
        }
    };
    let mut out = Vec::new();
    for (key, item) in document.as_table().iter() {
        if key != "engines" {
            errors.at(
                document.as_table().key(key).and_then(|k| k.span()),
                format!("unknown key `{key}`"),
                "the file holds only [engines.NAME] tables",
            );
            continue;
        }
        let Some(engines) = item.as_table() else {
            errors.at(
                item.span(),
                "`engines` must be a table",
                "write [engines.NAME] tables",
            );
            continue;
        };
        for (name, entry) in engines.iter() {
            let name_span = engines.key(name).and_then(|k| k.span());
            if let Some(instance) = parse_entry(name, name_span.clone(), entry, base, &mut errors) {
                let line = errors.position(name_span.unwrap_or(0..0).start).0;
                out.push(DeclaredInstance {
                    instance,
                    declared_at: format!("{file}:{line}"),
                });
            }
        }
    }
    check_compare_with(&document, &out, &mut errors);
    if errors.found.is_empty() {
        Ok(out)
    } else {
        Err(errors.found)
    }
}

/// Each `compare_with` names a system engine or another declared instance.
fn check_compare_with(
    document: &Document<&str>,
    declared: &[DeclaredInstance],
    errors: &mut Errors<'_>,
) {
    for d in declared {
        let Some(other) = &d.instance.compare_with else {
            continue;
        };
        let name = &d.instance.name;
        let known = other.parse::<EngineId>().is_ok()
            || declared
                .iter()
                .any(|o| &o.instance.name == other && o.instance.name != *name);
        if known {
            continue;
        }
        let span = document
            .get("engines")
            .and_then(|e| e.get(name))
            .and_then(|e| e.get("compare_with"))
            .and_then(Item::span);
        let others: Vec<&str> = ["chromium", "firefox", "webkitgtk"]
            .into_iter()
            .chain(declared.iter().map(|o| o.instance.name.as_str()))
            .filter(|o| o != name)
            .collect();
        errors.at(
            span,
            format!("`compare_with` of engine `{name}` names no other engine: `{other}`"),
            &format!("name one of: {}", others.join(", ")),
        );
    }
}

struct Errors<'a> {
    text: &'a str,
    file: &'a str,
    found: Vec<ConfigError>,
}

impl Errors<'_> {
    /// 1-based line and column of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn at(&mut self, span: Option<Range<usize>>, message: impl Into<String>, fix: &str) {
        let (line, column) = self.position(span.map_or(0, |s| s.start));
        self.found.push(ConfigError {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
            fix: fix.to_owned(),
        });
    }
}

const KEYS: &[&str] = &[
    "kind",
    "browser",
    "driver",
    "args",
    "webdriver-url",
    "compare_with",
];

fn parse_entry(
    name: &str,
    name_span: Option<Range<usize>>,
    entry: &Item,
    base: &Path,
    errors: &mut Errors<'_>,
) -> Option<EngineInstance> {
    let before = errors.found.len();
    let Some(table) = entry.as_table_like() else {
        errors.at(
            entry.span().or(name_span),
            format!("engine `{name}` must be a table"),
            &format!("write [engines.{name}] with kind = \"chromium\" and browser = \"PATH\""),
        );
        return None;
    };
    if name.parse::<EngineId>().is_ok() {
        errors.at(
            name_span.clone(),
            format!("`{name}` is the name of a system engine"),
            &format!("choose another name, e.g. {name}-local"),
        );
    } else if name == "model" {
        errors.at(
            name_span.clone(),
            "`model` cannot name an engine: snapshots/model/ holds the model's snapshots"
                .to_owned(),
            "choose another name, e.g. model-build",
        );
    } else if !valid_name(name) {
        errors.at(
            name_span.clone(),
            format!("`{name}` cannot name an engine (it names the snapshot directory)"),
            "use lowercase ASCII letters, digits and `-`, starting with a letter",
        );
    }
    for (key, _) in table.iter() {
        if !KEYS.contains(&key) {
            errors.at(
                table.key(key).and_then(|k| k.span()),
                format!("unknown key `{key}` in engine `{name}`"),
                "the keys are kind, browser, driver, args, webdriver-url and compare_with",
            );
        }
    }
    let string = |key: &str, errors: &mut Errors<'_>| -> Option<(String, Option<Range<usize>>)> {
        let item = table.get(key)?;
        match item.as_str() {
            Some(s) if !s.trim().is_empty() => Some((s.to_owned(), item.span())),
            _ => {
                errors.at(
                    item.span(),
                    format!("`{key}` of engine `{name}` must be a non-empty string"),
                    &format!("write {key} = \"...\""),
                );
                None
            }
        }
    };
    let kind = match string("kind", errors) {
        Some((kind, span)) => match kind.parse::<EngineId>() {
            Ok(kind) => Some(kind),
            Err(_) => {
                errors.at(
                    span,
                    format!("unknown kind `{kind}` for engine `{name}`"),
                    "kind is chromium, firefox or webkitgtk",
                );
                None
            }
        },
        None if table.get("kind").is_none() => {
            errors.at(
                name_span.clone(),
                format!("engine `{name}` has no kind"),
                "add kind = \"chromium\" (or firefox, webkitgtk)",
            );
            None
        }
        None => None,
    };
    let browser = string("browser", errors);
    let driver = string("driver", errors);
    let url = string("webdriver-url", errors);
    let compare_with = string("compare_with", errors);
    let args = match table.get("args") {
        None => Vec::new(),
        Some(item) => match item.as_array() {
            Some(array) if array.iter().all(|v| v.as_str().is_some()) => array
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => {
                errors.at(
                    item.span(),
                    format!("`args` of engine `{name}` must be a list of strings"),
                    "write args = [\"--flag\", \"--other=value\"]",
                );
                Vec::new()
            }
        },
    };
    let location = match (url, &driver) {
        (Some(_), Some((_, driver_span))) => {
            errors.at(
                driver_span.clone(),
                format!("engine `{name}` has both webdriver-url and driver"),
                "drop driver: a remote endpoint runs its own drivers",
            );
            None
        }
        (Some((url, span)), None) => match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Some(Location::Remote {
                    url: url.trim_end_matches('/').to_owned(),
                    // A path on the endpoint's machine: taken as written.
                    browser: browser.map(|(b, _)| PathBuf::from(b)),
                })
            }
            _ => {
                errors.at(
                    span,
                    format!("webdriver-url `{url}` of engine `{name}` is not an http URL"),
                    "write webdriver-url = \"http://HOST:PORT\"",
                );
                None
            }
        },
        // A local instance takes the system engine's binaries for what it
        // does not name (a flag alone is an instance: `args`).
        (None, _) => Some(Location::Local(LocalBinaries {
            browser: browser.map(|(b, _)| base.join(b)),
            driver: driver.map(|(d, _)| base.join(d)),
        })),
    };
    if errors.found.len() > before {
        return None;
    }
    Some(EngineInstance {
        name: name.to_owned(),
        kind: kind?,
        location: location?,
        args,
        compare_with: compare_with.map(|(c, _)| c),
    })
}

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<DeclaredInstance>, Vec<ConfigError>> {
        parse_instances(text, "pmconf.toml", Path::new("/home/me/pmconf"))
    }

    fn errors(text: &str) -> Vec<ConfigError> {
        parse(text).expect_err("the file has errors")
    }

    #[test]
    fn local_and_remote_instances() {
        let text = "\
[engines.chromium-local]
kind = \"chromium\"
browser = \"out/Release/chrome\"
args = [\"--enable-features=Foo\"]

[engines.nightly-on-grid]
kind = \"firefox\"
webdriver-url = \"http://10.0.0.2:4444/\"
browser = \"/opt/firefox-nightly/firefox\"
";
        let declared = parse(text).unwrap();
        assert_eq!(declared.len(), 2);
        let local = &declared[0];
        assert_eq!(local.declared_at, "pmconf.toml:1");
        assert_eq!(
            local.instance,
            EngineInstance {
                name: "chromium-local".into(),
                kind: EngineId::Chromium,
                location: Location::Local(LocalBinaries {
                    browser: Some("/home/me/pmconf/out/Release/chrome".into()),
                    driver: None,
                }),
                args: vec!["--enable-features=Foo".into()],
                compare_with: None,
            }
        );
        let remote = &declared[1];
        assert_eq!(remote.declared_at, "pmconf.toml:6");
        assert_eq!(
            remote.instance.location,
            Location::Remote {
                url: "http://10.0.0.2:4444".into(),
                browser: Some("/opt/firefox-nightly/firefox".into()),
            }
        );
        assert_eq!(remote.instance.kind, EngineId::Firefox);
    }

    #[test]
    fn an_absolute_path_stays_as_written() {
        let declared =
            parse("[engines.wrapped]\nkind = \"chromium\"\nbrowser = \"/usr/local/bin/w\"\n")
                .unwrap();
        let Location::Local(binaries) = &declared[0].instance.location else {
            panic!("local")
        };
        assert_eq!(
            binaries.browser.as_deref(),
            Some(Path::new("/usr/local/bin/w"))
        );
    }

    #[test]
    fn invalid_toml_points_at_the_spot() {
        let found = errors("[engines.x]\nkind = chromium\n");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].column), (2, 8), "{}", found[0]);
        assert!(found[0].message.contains("not valid TOML"));
    }

    #[test]
    fn each_bad_entry_is_reported_with_line_and_fix() {
        let text = "\
[engines.chromium]
kind = \"chromium\"
browser = \"/x\"

[engines.Bad_Name]
kind = \"chromium\"
browser = \"/x\"

[engines.nokind]
browser = \"/x\"

[engines.safari]
kind = \"safari\"
browser = \"/x\"

[engines.typo]
kind = \"firefox\"
browsr = \"/x\"

[engines.both]
kind = \"firefox\"
webdriver-url = \"http://grid:4444\"
driver = \"/usr/bin/geckodriver\"

[engines.other]
kind = \"webkitgtk\"
compare_with = \"safari\"

[engines.badurl]
kind = \"webkitgtk\"
webdriver-url = \"grid:4444\"

[engines.badargs]
kind = \"chromium\"
browser = \"/x\"
args = \"--one\"
";
        let found = errors(text);
        let at: Vec<(usize, &str)> = found.iter().map(|e| (e.line, e.message.as_str())).collect();
        let expect = [
            (1, "`chromium` is the name of a system engine"),
            (5, "`Bad_Name` cannot name an engine"),
            (9, "engine `nokind` has no kind"),
            (13, "unknown kind `safari`"),
            (18, "unknown key `browsr` in engine `typo`"),
            (23, "engine `both` has both webdriver-url and driver"),
            (
                31,
                "webdriver-url `grid:4444` of engine `badurl` is not an http URL",
            ),
            (36, "`args` of engine `badargs` must be a list of strings"),
            (
                27,
                "`compare_with` of engine `other` names no other engine: `safari`",
            ),
        ];
        assert_eq!(found.len(), expect.len(), "{found:#?}");
        for ((line, message), (want_line, want)) in at.iter().zip(expect) {
            assert_eq!(*line, want_line, "{message}");
            assert!(
                message.contains(want),
                "{message:?} should contain {want:?}"
            );
        }
        for e in &found {
            assert!(!e.fix.is_empty(), "{e}");
            assert!(e
                .to_string()
                .starts_with(&format!("pmconf.toml:{}:", e.line)));
        }
    }

    /// Issue 27 item 5: a local instance need not name a browser: it
    /// takes the system engine's binaries for what it does not name (a
    /// flag alone makes an instance), and `compare_with` names the engine
    /// whose accepted snapshots it is compared with. On main the first
    /// entry was refused ("names neither a browser nor a webdriver-url")
    /// and `compare_with` was an unknown key.
    #[test]
    fn a_local_instance_may_name_only_arguments_and_what_it_compares_with() {
        let declared = parse(
            "[engines.chromium-flags]\nkind = \"chromium\"\nargs = [\"--disable-features=Foo\"]\ncompare_with = \"chromium\"\n\n[engines.again]\nkind = \"chromium\"\ncompare_with = \"chromium-flags\"\n",
        )
        .unwrap();
        assert_eq!(
            declared[0].instance,
            EngineInstance {
                name: "chromium-flags".into(),
                kind: EngineId::Chromium,
                location: Location::Local(LocalBinaries::default()),
                args: vec!["--disable-features=Foo".into()],
                compare_with: Some("chromium".into()),
            }
        );
        assert_eq!(
            declared[1].instance.compare_with.as_deref(),
            Some("chromium-flags"),
            "another declared instance"
        );
        let found = errors("[engines.me]\nkind = \"firefox\"\ncompare_with = \"me\"\n");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!((found[0].line, found[0].column), (3, 16), "{}", found[0]);
        assert!(
            found[0].fix.contains("chromium, firefox, webkitgtk"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn model_is_no_engine_name() {
        let found = errors("[engines.model]\nkind = \"chromium\"\nbrowser = \"/x\"\n");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].line, 1);
        assert!(
            found[0].message.contains("snapshots/model/"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn only_engine_tables_are_allowed_at_the_top() {
        let found = errors("[engine.x]\nkind = \"chromium\"\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 1);
        assert!(
            found[0].message.contains("unknown key `engine`"),
            "{}",
            found[0]
        );
    }
}
