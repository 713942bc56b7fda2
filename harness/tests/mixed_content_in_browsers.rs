//! What Chromium, Firefox and WebKitGTK do with the frames Mixed Content
//! decides and the `document.domain` values the setter decides, run as
//! pmconf runs any case: its own server and proxy, its own sessions
//! (`EngineWorker`), its agent in every window.
//!
//! Each scenario says what the model decides (the validator accepts the
//! case as written, or refuses it; hand-derived from the standards in the
//! comments), which engines were seen not to run it, and that the
//! generators' policies (`gen/races`: `AVOIDED_FRAMES`, `AVOIDED_DOMAINS`)
//! name exactly the scenarios the model accepts and an engine does not
//! run, with exactly those engines. A scenario the model refuses runs
//! from a stand-in the validator accepts, with the real value put back in
//! the parsed case.
//!
//! An engine that is not installed is skipped with a printed reason,
//! unless `CI` is set: then a missing engine fails the test.

mod common;

use pmconf::engine::ProcessRegistry;
use pmconf::gen::races::schedule::AVOIDED_DOMAINS;
use pmconf::gen::races::topology::AVOIDED_FRAMES;
use pmconf::run::driver::Pacing;
use pmconf::run::state::RunState;
use pmconf::run::verdict::Observation;
use pmconf::run::worker::EngineWorker;
use pmconf::server::OriginServer;
use pmconf_model::case::{Step, WindowContent};
use pmconf_model::{parse_case, Case};
use std::time::Duration;
use url::Url;

/// What a scenario probes, for the generators' policies.
enum Probe {
    /// A frame loading `url` under documents at `around` (nearest first).
    Frame {
        url: &'static str,
        around: &'static [&'static str],
    },
    /// `document.domain` set in a document whose host is `host`.
    Domain { host: &'static str },
}

struct Scenario {
    name: &'static str,
    /// The case as meant. Its last step posts `ran` to `top` from the
    /// window under test once that window's script has run.
    yaml: &'static str,
    /// `(real, stand-in)`: when the validator refuses the case, it runs
    /// with `stand-in` written for `real`, put back after parsing.
    stand_in: (&'static str, &'static str),
    /// Whether the model accepts the case as written (hand-derived).
    model_accepts: bool,
    /// The engines seen not to run it (the window never runs pmconf's
    /// agent, or the step throws).
    not_run_by: &'static [&'static str],
    probe: Probe,
}

const SCENARIOS: &[Scenario] = &[
    // Secure Contexts, "Is origin potentially trustworthy?" step 4:
    // 127.0.0.0/8 is; so the frame's URL is a potentially trustworthy URL
    // and Mixed Content §4.4 step 1.2 allows it under https. Firefox loads
    // the frame but blocks its agent's `ws:` channel to the harness as
    // mixed content (an ancestor is https); WebKitGTK blocks the frame.
    Scenario {
        name: "an http loopback frame under https",
        yaml: r#"
description: probe
windows:
  top: { url: "https://a.test/" }
  kid: { parent: top, url: "http://127.0.0.1:8001/" }
steps:
  - post: { from: kid, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("http://127.0.0.1:8001/", "https://b.test/"),
        model_accepts: true,
        not_run_by: &["firefox", "webkitgtk"],
        probe: Probe::Frame {
            url: "http://127.0.0.1:8001/",
            around: &["https://a.test/"],
        },
    },
    // The same, under an http loopback page: allowed (§4.4 step 1.2).
    Scenario {
        name: "an http loopback frame under an http loopback page",
        yaml: r#"
description: probe
windows:
  top: { url: "http://127.0.0.1:8001/" }
  kid: { parent: top, url: "http://127.0.0.2:8002/" }
steps:
  - post: { from: kid, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("http://127.0.0.2:8002/", "https://b.test/"),
        model_accepts: true,
        not_run_by: &[],
        probe: Probe::Frame {
            url: "http://127.0.0.2:8002/",
            around: &["http://127.0.0.1:8001/"],
        },
    },
    // §4.3 step 2: top's https origin prohibits mixed security contexts;
    // `http://b.test/` is not potentially trustworthy: blocked.
    Scenario {
        name: "an http *.test frame under https",
        yaml: r#"
description: probe
windows:
  top: { url: "https://a.test/" }
  kid: { parent: top, url: "http://b.test/" }
steps:
  - post: { from: kid, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("http://b.test/", "https://b.test/"),
        model_accepts: false,
        not_run_by: &["chromium", "firefox", "webkitgtk"],
        probe: Probe::Frame {
            url: "http://b.test/",
            around: &["https://a.test/"],
        },
    },
    // §4.3 step 1: the parent's origin, http://127.0.0.1:8001, is
    // potentially trustworthy, so it prohibits too: blocked by the
    // standard. All three engines load it (only https pages restrict).
    Scenario {
        name: "an http *.test frame under an http loopback page",
        yaml: r#"
description: probe
windows:
  top: { url: "http://127.0.0.1:8001/" }
  kid: { parent: top, url: "http://b.test/" }
steps:
  - post: { from: kid, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("http://b.test/", "https://b.test/"),
        model_accepts: false,
        not_run_by: &[],
        probe: Probe::Frame {
            url: "http://b.test/",
            around: &["http://127.0.0.1:8001/"],
        },
    },
    // HTML makes the initiator (kid, https) the request's client, which
    // would prohibit; pmconf judges a frame by its container (top, http),
    // as all three engines do: it loads (NOTE in mixed_content.rs).
    Scenario {
        name: "an https frame under http navigating itself to http",
        yaml: r#"
description: probe
windows:
  top: { url: "http://a.test/" }
  kid: { parent: top, url: "https://b.test/" }
steps:
  - navigate: { window: kid, url: "http://c.test/" }
  - wait: { loaded: kid }
  - post: { from: kid, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("http://c.test/", "https://c.test/"),
        model_accepts: true,
        not_run_by: &[],
        probe: Probe::Frame {
            url: "http://c.test/",
            around: &["http://a.test/"],
        },
    },
    // A sandboxed document's origin is opaque, not potentially
    // trustworthy: the standard lets `kid` load. All three engines block
    // it; the model refuses it as they do (NOTE in mixed_content.rs).
    Scenario {
        name: "an http *.test frame under a sandboxed https frame",
        yaml: r#"
description: probe
windows:
  top: { url: "http://a.test/" }
  boxed: { parent: top, url: "https://b.test/", sandbox: "allow-scripts" }
  kid: { parent: boxed, url: "http://c.test/" }
steps:
  - post: { from: kid, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("http://c.test/", "https://c.test/"),
        model_accepts: false,
        not_run_by: &["chromium", "firefox", "webkitgtk"],
        probe: Probe::Frame {
            url: "http://c.test/",
            around: &["https://b.test/", "http://a.test/"],
        },
    },
    // HTML's "is a registrable domain suffix of or is equal to", 4.2: the
    // trailing dot stays, `.a.test.` ends `x.a.test.`.
    Scenario {
        name: "document.domain = \"a.test.\" on x.a.test.",
        yaml: r#"
description: probe
windows:
  top: { url: "http://x.a.test./" }
steps:
  - set_domain: { window: top, domain: "a.test." }
  - post: { from: top, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("a.test.", "a.test."),
        model_accepts: true,
        not_run_by: &[],
        probe: Probe::Domain { host: "x.a.test." },
    },
    // 4.3: `test.` is its own public suffix (with the dot): throws.
    Scenario {
        name: "document.domain = \"test.\" on x.a.test.",
        yaml: r#"
description: probe
windows:
  top: { url: "http://x.a.test./" }
steps:
  - set_domain: { window: top, domain: "test." }
  - post: { from: top, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("test.", "a.test."),
        model_accepts: false,
        not_run_by: &["chromium", "firefox", "webkitgtk"],
        probe: Probe::Domain { host: "x.a.test." },
    },
    // Step 4: equal hosts, IP addresses included.
    Scenario {
        name: "document.domain = \"127.0.0.1\" on 127.0.0.1",
        yaml: r#"
description: probe
windows:
  top: { url: "http://127.0.0.1:8001/" }
steps:
  - set_domain: { window: top, domain: "127.0.0.1" }
  - post: { from: top, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("127.0.0.1", "127.0.0.1"),
        model_accepts: true,
        not_run_by: &[],
        probe: Probe::Domain { host: "127.0.0.1" },
    },
    Scenario {
        name: "document.domain = \"[::1]\" on [::1]",
        yaml: r#"
description: probe
windows:
  top: { url: "http://[::1]:8001/" }
steps:
  - set_domain: { window: top, domain: "[::1]" }
  - post: { from: top, to: top, message: "ran", target_origin: "*" }
"#,
        stand_in: ("[::1]", "[::1]"),
        model_accepts: true,
        not_run_by: &["firefox"],
        probe: Probe::Domain { host: "[::1]" },
    },
];

/// The case to run: as written when the validator accepts it, otherwise
/// its stand-in with the real value put back.
fn case_to_run(s: &Scenario) -> Case {
    if let Ok(case) = parse_case("probe.yaml", s.yaml) {
        return case;
    }
    let (real, stand_in) = s.stand_in;
    let text = s
        .yaml
        .replace(&format!("\"{real}\""), &format!("\"{stand_in}\""));
    let mut case = parse_case("probe.yaml", &text)
        .unwrap_or_else(|e| panic!("{}: the stand-in is refused: {}", s.name, e[0]));
    let mut put_back = 0;
    for w in &mut case.windows {
        if w.url_as_written.as_deref() == Some(stand_in) {
            w.content = WindowContent::Url(Url::parse(real).unwrap());
            w.url_as_written = Some(real.to_owned());
            put_back += 1;
        }
    }
    for step in &mut case.steps {
        match step {
            Step::Navigate(n) if n.url_as_written == stand_in => {
                n.url = Url::parse(real).unwrap();
                n.url_as_written = real.to_owned();
                put_back += 1;
            }
            Step::SetDomain { domain, .. } if domain == stand_in => {
                *domain = real.to_owned();
                put_back += 1;
            }
            _ => {}
        }
    }
    assert_eq!(put_back, 1, "{}", s.name);
    case
}

/// The engines a generator policy names for the scenario's probe, if a
/// policy covers it.
fn policy_engines(s: &Scenario) -> Option<Vec<&'static str>> {
    let seen = |list: &[(&'static str, &'static str)]| list.iter().map(|(e, _)| *e).collect();
    match &s.probe {
        Probe::Frame { url, around } => {
            let url = Url::parse(url).unwrap();
            let around: Vec<Url> = around.iter().map(|u| Url::parse(u).unwrap()).collect();
            AVOIDED_FRAMES
                .iter()
                .find(|a| (a.matches)(&url, &around))
                .map(|a| seen(a.seen))
        }
        Probe::Domain { host } => {
            let host = url::Host::parse(host).unwrap();
            AVOIDED_DOMAINS
                .iter()
                .find(|a| (a.matches)(&host))
                .map(|a| seen(a.seen))
        }
    }
}

/// The model's side, without a browser: the validator accepts exactly the
/// scenarios the standards (as the model reads them) let run, and the
/// generators avoid exactly the ones the model accepts and an engine does
/// not run, naming those engines.
#[test]
fn the_model_and_the_generator_policies_match_the_table() {
    for s in SCENARIOS {
        let accepted = parse_case("probe.yaml", s.yaml);
        assert_eq!(
            accepted.is_ok(),
            s.model_accepts,
            "{}: {:?}",
            s.name,
            accepted.err().map(|e| e[0].to_string())
        );
        let expected = (s.model_accepts && !s.not_run_by.is_empty()).then(|| s.not_run_by.to_vec());
        assert_eq!(policy_engines(s), expected, "{}", s.name);
    }
}

/// Whether the case ran: `top` got `ran` from the window under test.
fn ran(observed: &Observation) -> Result<bool, String> {
    match observed {
        Observation::Observed(o) => {
            let top = o.received.iter().find(|(l, _)| l == "top");
            Ok(top.is_some_and(|(_, got)| got.iter().any(|d| d.message == "ran")))
        }
        // A frame that never runs the agent, or a step that throws.
        Observation::Inconclusive(reason)
            if reason.contains("never ran pmconf's agent") || reason.contains("threw") =>
        {
            Ok(false)
        }
        other => Err(format!("{other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_engine_runs_what_the_table_says() {
    let state = RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id()));
    let server = OriginServer::start(state.clone()).await.unwrap();
    let mut wrong = Vec::new();
    for engine in common::engines() {
        let registry = ProcessRegistry::new();
        let _cleanup = registry.end_all_on_drop();
        // A frame that never loads costs the whole ready timeout.
        let pacing = Pacing {
            ready_timeout: Duration::from_secs(8),
            ..Pacing::default()
        };
        let mut worker = EngineWorker::start(
            engine,
            &server.proxy_address(),
            state.clone(),
            &registry,
            pacing,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        for s in SCENARIOS {
            let observed = worker.run(std::slice::from_ref(&case_to_run(s))).await;
            let expected = !s.not_run_by.contains(&engine.name());
            match ran(&observed[0]) {
                Ok(got) if got == expected => {}
                Ok(got) => wrong.push(format!(
                    "{}: {}: ran {got}, the table says {expected}: {:?}",
                    engine.name(),
                    s.name,
                    observed[0]
                )),
                Err(e) => wrong.push(format!("{}: {}: {e}", engine.name(), s.name)),
            }
        }
        worker.close().await;
    }
    server.shutdown().await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
