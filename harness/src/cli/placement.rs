//! Where a run's engines and its server are: `--webdriver-url` (sessions on
//! a remote WebDriver endpoint such as a Selenium Grid), `--listen`,
//! `--allow-non-loopback` and `--advertise`, shared by `run` and `bench`.

use crate::engine::{load_instances, DeclaredInstance, EngineId, EngineInstance, DEFAULT_CONFIG};
use std::path::Path;

/// The instances declared in `file`, or in `pmconf.toml` when no file is
/// given and it exists; every error is printed, then the bad-input status
/// is returned.
pub fn declared_instances(file: Option<&Path>) -> Result<Vec<DeclaredInstance>, i32> {
    let path = match file {
        Some(path) => path,
        None if Path::new(DEFAULT_CONFIG).exists() => Path::new(DEFAULT_CONFIG),
        None => return Ok(Vec::new()),
    };
    load_instances(path).map_err(|errors| {
        for e in &errors {
            eprintln!("error: {e}");
        }
        super::EXIT_BAD_INPUT
    })
}
use crate::server::Listen;

/// Options that place the engines and the server.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PlacementArgs {
    /// Create sessions on this remote WebDriver endpoint (a Selenium Grid:
    /// see scripts/grid) instead of starting drivers: `URL` for every
    /// engine, or `ENGINE=URL` for one (repeatable).
    #[arg(long = "webdriver-url", value_name = "[ENGINE=]URL")]
    pub webdriver_url: Vec<String>,
    /// Where the origin server and proxy listen (default 127.0.0.1:0, a free
    /// loopback port). Browsers on other machines need an address they
    /// reach: a non-loopback one also needs --allow-non-loopback.
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<String>,
    /// Allow a --listen address other than loopback: whoever reaches it can
    /// load the generated *.test pages (the server never connects onward).
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// The host browsers are told to use as their proxy (default: the
    /// --listen IP); needed when --listen binds every interface (0.0.0.0).
    #[arg(long, value_name = "HOST")]
    pub advertise: Option<String>,
    /// Engine instances declared in this file (default: pmconf.toml in the
    /// current directory, if there is one); --engine selects them by name.
    #[arg(long, value_name = "FILE")]
    pub engines: Option<std::path::PathBuf>,
}

/// The `--webdriver-url` values, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebDriverUrls {
    /// `URL`: every engine.
    pub all: Option<String>,
    /// `ENGINE=URL`, in the order given.
    pub per_engine: Vec<(EngineId, String)>,
}

impl WebDriverUrls {
    /// Parses every `--webdriver-url` value.
    pub fn parse(values: &[String]) -> Result<WebDriverUrls, String> {
        let mut out = WebDriverUrls::default();
        for value in values {
            let (engine, url) = match value.split_once('=') {
                Some((engine, url)) if !engine.contains("://") => {
                    let engine: EngineId = engine.parse().map_err(|_| {
                        format!("--webdriver-url {value}: unknown engine `{engine}`; write ENGINE=URL with chromium, firefox or webkitgtk, or a URL alone for every engine")
                    })?;
                    (Some(engine), url)
                }
                _ => (None, value.as_str()),
            };
            check_url(url).map_err(|why| format!("--webdriver-url {value}: {why}"))?;
            match engine {
                None if out.all.is_some() => {
                    return Err(format!("--webdriver-url {value}: a URL for every engine was already given; give one, or ENGINE=URL per engine"));
                }
                None => out.all = Some(url.to_owned()),
                Some(engine) if out.per_engine.iter().any(|(e, _)| *e == engine) => {
                    return Err(format!(
                        "--webdriver-url {value}: {engine} was given a URL twice"
                    ));
                }
                Some(engine) => out.per_engine.push((engine, url.to_owned())),
            }
        }
        Ok(out)
    }

    /// The endpoint `engine` uses, if any (its own before the common one).
    pub fn for_engine(&self, engine: EngineId) -> Option<&str> {
        self.per_engine
            .iter()
            .find(|(e, _)| *e == engine)
            .map(|(_, url)| url.as_str())
            .or(self.all.as_deref())
    }

    /// Whether no engine is remote.
    pub fn is_empty(&self) -> bool {
        self.all.is_none() && self.per_engine.is_empty()
    }

    /// Places `engines` (the selected system engines): each with an
    /// endpoint becomes remote. An `ENGINE=URL` for an engine not selected
    /// is an error (it would silently do nothing).
    pub fn place(&self, engines: &[EngineId]) -> Result<Vec<EngineInstance>, String> {
        if let Some((engine, _)) = self.per_engine.iter().find(|(e, _)| !engines.contains(e)) {
            return Err(format!(
                "--webdriver-url names {engine}, which --engine does not select; add it to --engine or drop the URL"
            ));
        }
        Ok(engines
            .iter()
            .map(|&engine| match self.for_engine(engine) {
                Some(url) => EngineInstance::remote(engine, url),
                None => EngineInstance::system(engine),
            })
            .collect())
    }
}

fn check_url(url: &str) -> Result<(), String> {
    let parsed =
        url::Url::parse(url).map_err(|e| format!("not a URL ({e}); write http://HOST:PORT"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err("write http://HOST:PORT (a WebDriver endpoint)".into());
    }
    Ok(())
}

impl PlacementArgs {
    /// The checked listen address.
    pub fn listen(&self) -> Result<Listen, String> {
        Listen::parse(
            self.listen.as_deref(),
            self.allow_non_loopback,
            self.advertise.as_deref(),
        )
        .map_err(|e| e.to_string())
    }

    /// The declared engine instances: from `--engines`, else from
    /// `pmconf.toml` if it exists; every error is printed.
    pub fn declared(&self) -> Result<Vec<DeclaredInstance>, i32> {
        declared_instances(self.engines.as_deref())
    }

    /// The checked `--webdriver-url` values.
    pub fn urls(&self) -> Result<WebDriverUrls, String> {
        WebDriverUrls::parse(&self.webdriver_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Location;

    fn parse(values: &[&str]) -> Result<WebDriverUrls, String> {
        WebDriverUrls::parse(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_url_alone_is_for_every_engine() {
        let urls = parse(&["http://127.0.0.1:4444/"]).unwrap();
        let placed = urls.place(&EngineId::ALL).unwrap();
        assert_eq!(placed.len(), 3);
        for (instance, kind) in placed.iter().zip(EngineId::ALL) {
            assert_eq!(instance.kind, kind);
            assert_eq!(instance.name, kind.name());
            assert_eq!(
                instance.location,
                Location::Remote {
                    url: "http://127.0.0.1:4444".into(),
                    browser: None
                }
            );
        }
    }

    #[test]
    fn engine_equals_url_moves_only_that_engine() {
        let urls = parse(&["chromium=http://grid:4444", "webkitgtk=http://other:4444"]).unwrap();
        let placed = urls.place(&EngineId::ALL).unwrap();
        assert!(!placed[0].is_local());
        assert!(placed[1].is_local());
        assert_eq!(
            placed[2].location,
            Location::Remote {
                url: "http://other:4444".into(),
                browser: None
            }
        );
    }

    #[test]
    fn an_engine_url_wins_over_the_common_one() {
        let urls = parse(&["http://grid:4444", "firefox=http://ff:4444"]).unwrap();
        assert_eq!(urls.for_engine(EngineId::Firefox), Some("http://ff:4444"));
        assert_eq!(
            urls.for_engine(EngineId::Chromium),
            Some("http://grid:4444")
        );
    }

    #[test]
    fn bad_values_say_what_to_write() {
        let error = parse(&["safari=http://x:1"]).unwrap_err();
        assert!(error.contains("unknown engine `safari`"), "{error}");
        let error = parse(&["grid:4444"]).unwrap_err();
        assert!(error.contains("http://HOST:PORT"), "{error}");
        let error = parse(&["http://a:1", "http://b:1"]).unwrap_err();
        assert!(error.contains("already given"), "{error}");
        let error = parse(&["firefox=http://a:1", "firefox=http://b:1"]).unwrap_err();
        assert!(error.contains("twice"), "{error}");
        let error = parse(&["firefox=http://a:1"])
            .unwrap()
            .place(&[EngineId::Chromium])
            .unwrap_err();
        assert!(error.contains("--engine does not select"), "{error}");
    }

    #[test]
    fn a_url_with_a_query_equals_sign_is_still_one_url() {
        let urls = parse(&["http://grid:4444/wd/hub?x=1"]).unwrap();
        assert_eq!(urls.all.as_deref(), Some("http://grid:4444/wd/hub?x=1"));
    }
}
