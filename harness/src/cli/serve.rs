//! `pmconf serve`: the harness without WebDriver. It starts the server and
//! prints one URL; any browser that opens it (through pmconf's proxy) runs
//! the cases with the same runner page, agents and channel as `pmconf
//! run`, and is shown pmconf's HTML report of what it did: each case's
//! outcome histogram, every outcome marked allowed or NOT ALLOWED by the
//! model, and the verdict. Nothing is compared with snapshots.

use super::{report_load_errors, EXIT_BAD_INPUT};
use crate::case_files::{load_cases, LoadedCase};
use crate::engine::{open_directly, ProcessRegistry};
use crate::report::serve_page::serve_page;
use crate::run::channel::PeerName;
use crate::run::driver::{run_batches, Pacing};
use crate::run::plan::CasePlan;
use crate::run::state::RunState;
use crate::run::suite::{case_result, Snapshots};
use crate::run::verdict::Observation;
use crate::run::via_channel::{runner_url, ChannelExecutor};
use crate::server::{Listen, OriginServer};
use serde_json::json;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Options of `pmconf serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Case files or directories (default: cases/).
    pub cases: Vec<PathBuf>,
    /// Run only the cases that match (as `run --filter`).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Vec<String>,
    /// Runs of each race case (other cases run once).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Cases mounted in the runner page at once.
    #[arg(long, default_value_t = 12)]
    pub batch: usize,
    /// Stop after the first browser has run every case (exit status 0
    /// when every case conforms or is contested, 1 otherwise); without
    /// it, every browser that opens the URL runs them, until Ctrl-C.
    #[arg(long)]
    pub once: bool,
    /// Where the server listens (default 127.0.0.1:0, a free loopback
    /// port); a non-loopback address also needs --allow-non-loopback.
    #[arg(long, value_name = "IP:PORT")]
    pub listen: Option<String>,
    /// Allow a --listen address other than loopback.
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// The host browsers are told to use as their proxy (default: the
    /// --listen IP).
    #[arg(long, value_name = "HOST")]
    pub advertise: Option<String>,
    /// Also open the URL in this engine's browser, started by pmconf
    /// without any WebDriver server (chromium, firefox or webkitgtk; in
    /// Firefox only http pages load: it accepts pmconf's certificates only
    /// under automation).
    #[arg(long, value_name = "ENGINE")]
    pub browser: Option<crate::engine::EngineId>,
}

/// Runs `pmconf serve`; a browser it starts (`--browser`) is owned by
/// `registry`.
pub async fn serve(args: ServeArgs, registry: &ProcessRegistry) -> i32 {
    let inputs = if args.cases.is_empty() {
        vec![PathBuf::from("cases")]
    } else {
        args.cases.clone()
    };
    let mut cases = match load_cases(&inputs) {
        Ok(c) => c,
        Err(errors) => {
            report_load_errors(&errors);
            return EXIT_BAD_INPUT;
        }
    };
    if !args.filter.is_empty() {
        cases.retain(|c| crate::case_filter::matches_any(c, &args.filter));
        if cases.is_empty() {
            eprintln!(
                "error: no case matches --filter {}",
                args.filter.join(" --filter ")
            );
            return EXIT_BAD_INPUT;
        }
    }
    let listen = match Listen::parse(
        args.listen.as_deref(),
        args.allow_non_loopback,
        args.advertise.as_deref(),
    ) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let plans = plan_cases(&cases, args.repeat as usize);
    let state = RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id()));
    let server = match OriginServer::start_on(state.clone(), listen.bind).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let proxy = listen.proxy_address(server.port());
    state.serve_fixed(PAC_PATH, "application/x-ns-proxy-autoconfig", pac(&proxy));
    println!(
        "pmconf serve: {} cases ({} runs); open this URL in a browser that uses pmconf's proxy:\n  {}\n\
         proxy: {proxy} for http and https, e.g. chromium --proxy-server={proxy} --ignore-certificate-errors,\n\
         \x20      or the PAC file http://{proxy}{PAC_PATH}\n\
         the browser must let *.test pages open popups, and accept pmconf's own certificates for https cases",
        cases.len(),
        plans.len(),
        runner_url_for_people(state.token())
    );
    let pacing = Pacing {
        batch_size: args.batch,
        ..Pacing::default()
    };
    let browser = match args.browser {
        Some(engine) => {
            let url = runner_url_for_people(state.token());
            match open_directly(engine, &proxy, &url, registry).await {
                Ok(b) => {
                    println!("opened it in {engine}, started without a WebDriver server");
                    Some(b)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    server.shutdown().await;
                    return EXIT_BAD_INPUT;
                }
            }
        }
        None => None,
    };
    let mut served: HashSet<String> = HashSet::new();
    let mut status = 0;
    loop {
        let runner = tokio::select! {
            r = next_runner(&state, &served) => r,
            _ = tokio::signal::ctrl_c() => break,
        };
        served.insert(runner.clone());
        let label = format!("browser-{}", served.len());
        println!(
            "{label}: {} connected, running the cases",
            state
                .channels
                .agent(&runner)
                .unwrap_or_else(|| "a browser".into())
        );
        match run_in(&state, &runner, &label, &plans, &cases, &pacing).await {
            Ok(passed) => {
                if !passed {
                    status = 1;
                }
            }
            Err(e) => {
                println!("{label}: stopped: {e}");
                status = 1;
            }
        }
        if args.once {
            break;
        }
        println!("waiting for another browser (Ctrl-C ends)");
    }
    if let Some(b) = browser {
        b.end(registry);
    }
    server.shutdown().await;
    status
}

/// Where the PAC file is served.
const PAC_PATH: &str = "/__pmconf/proxy.pac";

/// A PAC file sending `*.test` and loopback through pmconf's proxy (and
/// nothing else: other traffic is the browser's own business).
fn pac(proxy: &str) -> String {
    format!(
        "function FindProxyForURL(url, host) {{\n  if (dnsDomainIs(host, \".test\") || host === \"127.0.0.1\" || host === \"localhost\" || host === \"[::1]\")\n    return \"PROXY {proxy}\";\n  return \"DIRECT\";\n}}\n"
    )
}

/// The URL a person opens: the runner page with the run's token and no
/// runner id (the page picks one).
fn runner_url_for_people(token: &str) -> String {
    runner_url("", token).replace("runner=&", "")
}

/// A plan per run: a race case once per repeat, any other once.
fn plan_cases(cases: &[LoadedCase], repeat: usize) -> Vec<Arc<CasePlan>> {
    let mut plans = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let runs = if c.case.is_race() { repeat } else { 1 };
        for _ in 0..runs {
            plans.push(Arc::new(CasePlan::new(plans.len(), i, c)));
        }
    }
    plans
}

/// Waits for a runner page not served yet to connect.
async fn next_runner(state: &RunState, served: &HashSet<String>) -> String {
    loop {
        let far = tokio::time::Instant::now() + Duration::from_secs(3600);
        let fresh = |s: &RunState| {
            s.channels
                .runners()
                .into_iter()
                .find(|r| !served.contains(r))
        };
        state.wait_until(far, |s| fresh(s).is_some()).await;
        if let Some(r) = fresh(state) {
            return r;
        }
    }
}

/// Runs every plan in runner `runner`, prints the results, and shows the
/// browser pmconf's HTML report; whether every case conformed (or was
/// contested).
async fn run_in(
    state: &Arc<RunState>,
    runner: &str,
    label: &str,
    plans: &[Arc<CasePlan>],
    cases: &[LoadedCase],
    pacing: &Pacing,
) -> Result<bool, String> {
    let started = std::time::Instant::now();
    let executor =
        ChannelExecutor::with_runner(state.clone(), runner.to_owned(), pacing.ready_timeout);
    let mut runs: Vec<Vec<(Observation, Duration)>> = vec![Vec::new(); cases.len()];
    let total = plans.len();
    let mut done = 0;
    let peer = PeerName::Runner(runner.to_owned());
    run_batches(executor, label, plans, state, pacing, |run| {
        let plan = &plans[run.index];
        runs[plan.case_index].push((run.observation, run.duration));
        done += 1;
        state.channels.tell(
            &peer,
            &json!({ "t": "progress", "text": format!("pmconf: {done} of {total} runs") }),
        );
    })
    .await
    .map_err(|e| e.to_string())?;

    let browser = state.channels.agent(runner).unwrap_or_default();
    let mut results = Vec::new();
    for (i, case_runs) in runs.into_iter().enumerate() {
        let Some(plan) = plans.iter().find(|p| p.case_index == i) else {
            continue;
        };
        let no_snapshots = Snapshots {
            dir: None,
            accept: false,
            engines: &[],
        };
        results.push(case_result(label, plan, case_runs, &[], no_snapshots));
    }
    for r in &results {
        let not_allowed: usize = r
            .histogram
            .iter()
            .filter(|b| !b.allowed)
            .map(|b| b.count)
            .sum();
        let detail = match r.verdict.reason() {
            Some(reason) => format!(": {reason}"),
            None if not_allowed > 0 => format!(": {not_allowed} of {} runs NOT ALLOWED", r.runs),
            None => String::new(),
        };
        println!("{label}: {:<14} {}{detail}", r.verdict.name(), r.case);
    }
    let page = serve_page(&browser, &results);
    let passed = results
        .iter()
        .all(|r| matches!(r.verdict.name(), "conforms" | "contested"));
    println!(
        "{label}: {} in {:.1} s; the browser shows the report",
        page.lines()
            .find_map(|l| l.strip_prefix("<p id=\"verdict\">"))
            .and_then(|l| l.strip_suffix("</p>"))
            .unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );
    state
        .channels
        .call(
            &peer,
            json!({ "t": "report", "html": page }),
            Duration::from_secs(30),
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_get_a_url_without_a_runner_id() {
        assert_eq!(
            runner_url_for_people("t0k"),
            "http://pmconf.test/__pmconf/runner?token=t0k"
        );
    }

    #[test]
    fn the_pac_file_sends_only_test_hosts_and_loopback_to_pmconf() {
        let pac = pac("127.0.0.1:8999");
        assert!(pac.contains("dnsDomainIs(host, \".test\")"), "{pac}");
        assert!(pac.contains("return \"PROXY 127.0.0.1:8999\";"), "{pac}");
        assert!(pac.trim_end().ends_with("return \"DIRECT\";\n}"), "{pac}");
    }
}
