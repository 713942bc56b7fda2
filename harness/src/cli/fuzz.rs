//! `pmconf fuzz`: generate cases from a seed, run them in the engines,
//! shrink every divergence in the engine that showed it, and save the
//! minimal ones as cases.

use super::engines::engines_for_command;
use super::EXIT_BAD_INPUT;
use crate::engine::{EngineId, ProcessRegistry};
use crate::gen::findings::{
    divergence_key, finding_keys, fnv, write_finding, SavedFindings, ADOPTED,
};
use crate::gen::shrink::{shrink, to_case, Shrunk};
use crate::gen::{generate_with, GenCase};
use crate::run::driver::Pacing;
use crate::run::state::RunState;
use crate::run::verdict::Observation;
use crate::run::worker::{rerun_unobserved, EngineWorker};
use crate::server::OriginServer;
use pmconf_model::{answer_case, Case, Outcome};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// What `pmconf fuzz --help` says after the options.
pub const FUZZ_AFTER_HELP: &str = "\
Findings go to --out (default found/), which neither `pmconf run` nor
the model snapshot test reads: to make one part of the suite, move its
.yaml (and .html) to cases/found/, then `pmconf run cases/found/NAME.yaml`
and `pmconf review`.

--races: each generated race case runs --repeat times per engine; a
divergence is an observed outcome neither allowed nor contested by the
model, listed with its histogram. Each one whose rule is not saved yet is
shrunk in the engine that diverged (within --shrink-runs runs, confirmed
by 20 more) and saved as found/<engine>--race-<rule>--<hash>.yaml; one
that cannot be shrunk (--shrink-runs 0, over --max-shrinks, or not
confirmed) is saved as generated to found/races/, with its histogram in
NAME.observed.json. The end prints runs/s and harness faults (runs that
observed nothing) per engine.

Exit status: 0 when no engine diverged in a way not already saved (under
--out or cases/found/), 1 when a new divergence was saved (or, with
--races, a run observed nothing), 2 for a setup failure or a finding
that could not be written.";

/// Options of `pmconf fuzz`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = FUZZ_AFTER_HELP)]
pub struct FuzzArgs {
    /// The seed: the same seed and count generate the same cases.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many cases to generate.
    #[arg(long, default_value_t = 200)]
    pub cases: usize,
    /// Engines, as for `run`.
    #[arg(long)]
    pub engine: Option<String>,
    /// Where minimal divergences are written: outside cases/, so that the
    /// suite does not run them until a person moves them there.
    #[arg(long, default_value = "found")]
    pub out: PathBuf,
    /// Oracle runs allowed per shrink.
    #[arg(long, default_value_t = 60)]
    pub shrink_tries: usize,
    /// At most this many distinct divergences are shrunk per engine.
    #[arg(long, default_value_t = 24)]
    pub max_shrinks: usize,
    /// Cases mounted in one page load at a time.
    #[arg(long, default_value_t = 12)]
    pub batch: usize,
    /// Seconds every window of a batch may take to load (as `run`).
    #[arg(long, default_value_t = 15)]
    pub ready_timeout: u64,
    /// Run and report, but save no finding (nothing is written under --out).
    #[arg(long)]
    pub no_save: bool,
    /// Start no browser: write every generated case the model can answer
    /// to DIR as YAML (`case-0007.yaml`, or `race-<seed>-<i>.yaml` with
    /// --races), so you can read what would run (`pmconf check DIR`).
    #[arg(long, value_name = "DIR", alias = "emit", conflicts_with = "no_save")]
    pub dry_run: Option<PathBuf>,
    /// Generate navigation race cases (windows navigated, reloaded,
    /// removed, closed or created while messages are in flight) instead of
    /// origin cases; each runs --repeat times per engine.
    #[arg(long)]
    pub races: bool,
    /// With --races: runs of each case per engine.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// With --races: sessions of each engine at once (as `run --sessions`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=32))]
    pub sessions: u32,
    /// With --races: seconds a WebDriver command may go unanswered before
    /// its session counts as hung and is replaced (as `run`).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub command_timeout: u64,
    /// Also write a JSON summary here.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// With --races: engine runs allowed per shrink (candidates and the
    /// first confirmation; a minimal case that does not confirm costs a few
    /// more batches to bisect); 0 saves divergent cases unshrunk.
    #[arg(long, default_value_t = 600)]
    pub shrink_runs: usize,
    /// Draw messages from the `values` family: Map, Set, Date, RegExp
    /// (sources with `/` and line breaks, lastIndex), BigInt, wrappers,
    /// errors (custom properties, non-string messages), DOMException,
    /// ImageData, Blob and File, typed arrays, DataView, sparse arrays,
    /// shared references and cycles, and now and then an uncloneable part.
    #[arg(long)]
    pub values: bool,
}

impl FuzzArgs {
    /// The message family the options ask for.
    fn family(&self) -> crate::gen::MessageFamily {
        if self.values {
            crate::gen::MessageFamily::Values
        } else {
            crate::gen::MessageFamily::Plain
        }
    }

    /// ` --values` when given, for the printed command lines.
    fn family_flag(&self) -> &'static str {
        if self.values {
            " --values"
        } else {
            ""
        }
    }
}

/// One engine's findings.
struct EngineFindings {
    engine: &'static str,
    browser_version: String,
    ran: usize,
    seconds: f64,
    inconclusive: usize,
    inconclusive_reasons: Vec<String>,
    diverging: usize,
    minimal: Vec<(String, Shrunk)>,
    /// Divergences whose every rule key is already saved, with the files.
    already: Vec<(String, Vec<PathBuf>)>,
    /// Divergences with a new rule left unshrunk (over `--max-shrinks`).
    not_shrunk: usize,
    /// Sessions replaced after a WebDriver failure (a crashed browser).
    restarts: usize,
    /// Cases that observed nothing in the first pass and ran once more.
    rerun: usize,
    error: Option<String>,
}

/// Runs `pmconf fuzz`; returns the exit status ([`FUZZ_AFTER_HELP`]).
pub async fn run(args: FuzzArgs, registry: &ProcessRegistry) -> i32 {
    if args.races {
        return super::fuzz_races::run(&args, registry).await;
    }
    let trees = generate_with(args.seed, args.cases, args.family());
    let mut valid: Vec<(usize, GenCase, Case)> = Vec::new();
    let mut unanswerable = Vec::new();
    for (i, tree) in trees.iter().enumerate() {
        let gen = tree.current();
        match to_case(&gen) {
            Ok(case) => valid.push((i, gen, case)),
            Err(e) => unanswerable.push((i, e)),
        }
    }
    println!(
        "generated {} cases: {} valid, {} the model cannot answer",
        args.cases,
        valid.len(),
        unanswerable.len()
    );
    for (i, e) in unanswerable.iter().take(5) {
        println!("  case {i}: {e}");
    }
    if let Some(dir) = &args.dry_run {
        let command = format!(
            "pmconf fuzz --seed {} --cases {}{}",
            args.seed,
            args.cases,
            args.family_flag()
        );
        return emit(dir, &valid, &command);
    }
    let engines = match engines_for_command(args.engine.as_deref(), false) {
        Ok(e) => e,
        Err(status) => return status,
    };
    let command = format!(
        "pmconf fuzz --seed {} --cases {}{} --engine {}",
        args.seed,
        args.cases,
        args.family_flag(),
        engines
            .iter()
            .map(|e| e.name())
            .collect::<Vec<_>>()
            .join(",")
    );
    println!("{command}: reproduce with the same command");

    let state = RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id()));
    let server = match OriginServer::start(state.clone()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: the local origin server could not start: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let proxy = server.proxy_address();
    let pacing = Pacing {
        batch_size: args.batch,
        ready_timeout: std::time::Duration::from_secs(args.ready_timeout),
        ..Pacing::default()
    };

    let mut saved = saved_findings(&args.out);
    // proptest's value trees are not Send: the engines run concurrently on
    // this thread (they spend their time waiting on the browsers).
    let local = tokio::task::LocalSet::new();
    let findings = local
        .run_until(async {
            let mut tasks = Vec::new();
            for engine in engines {
                let valid = valid.clone();
                let state = state.clone();
                let registry = registry.clone();
                let proxy = proxy.clone();
                let pacing = pacing.clone();
                let args = args.clone();
                let saved = saved.clone();
                tasks.push(tokio::task::spawn_local(async move {
                    fuzz_engine(
                        engine,
                        &valid,
                        &proxy,
                        state,
                        &registry,
                        (pacing, &args),
                        &saved,
                    )
                    .await
                }));
            }
            let mut findings = Vec::new();
            for t in tasks {
                if let Ok(f) = t.await {
                    findings.push(f);
                }
            }
            findings
        })
        .await;
    server.shutdown().await;

    let mut status = 0;
    let mut written = 0;
    println!();
    for f in &findings {
        if let Some(e) = &f.error {
            println!("{}: failed: {e}", f.engine);
            status = EXIT_BAD_INPUT;
            continue;
        }
        println!(
            "{} {}: {} cases in {:.1} s = {:.1} cases/s; {} diverged, {} inconclusive; {} distinct rule sets already saved, {} new after shrinking{}",
            f.engine,
            f.browser_version,
            f.ran,
            f.seconds,
            f.ran as f64 / f.seconds.max(1e-9),
            f.diverging,
            f.inconclusive,
            f.already.len(),
            f.minimal.len(),
            if f.not_shrunk > 0 {
                format!(" ({} more not shrunk: --max-shrinks)", f.not_shrunk)
            } else {
                String::new()
            }
        );
        if f.rerun > 0 {
            println!(
                "  {}: {} cases observed nothing and ran once more; {} stay inconclusive",
                f.engine, f.rerun, f.inconclusive
            );
        }
        if f.restarts > 0 {
            println!(
                "  {}: the session failed and was replaced {} times",
                f.engine, f.restarts
            );
        }
        for reason in &f.inconclusive_reasons {
            println!("  inconclusive {reason}");
        }
        for (key, files) in &f.already {
            let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
            println!(
                "  {}: {key}: already saved as {}",
                f.engine,
                files.join(", ")
            );
        }
        for (shape, s) in &f.minimal {
            println!("  {}", one_line(f.engine, shape, s));
            if !args.no_save {
                match save(&args, &command, f.engine, s, &mut saved) {
                    Ok(Saved::New(path)) => {
                        written += 1;
                        println!("    saved {}", path.display());
                    }
                    Ok(Saved::Already(paths)) => {
                        let paths: Vec<String> =
                            paths.iter().map(|p| p.display().to_string()).collect();
                        println!("    already saved as {}", paths.join(", "))
                    }
                    Err(e) => {
                        println!("    could not save: {e}");
                        status = EXIT_BAD_INPUT;
                    }
                }
            }
        }
    }
    if let Some(path) = &args.results {
        let summary = serde_json::json!({
            "seed": args.seed,
            "generated": args.cases,
            "valid": valid.len(),
            "unanswerable": unanswerable.len(),
            "engines": findings.iter().map(|f| serde_json::json!({
                "engine": f.engine,
                "browser_version": f.browser_version,
                "error": f.error,
                "ran": f.ran,
                "seconds": f.seconds,
                "diverged": f.diverging,
                "inconclusive": f.inconclusive,
                "inconclusive_reasons": f.inconclusive_reasons,
                "already_saved": f.already.iter().map(|(key, files)| serde_json::json!({
                    "rules": key,
                    "files": files,
                })).collect::<Vec<_>>(),
                "not_shrunk": f.not_shrunk,
                "session_restarts": f.restarts,
                "rerun": f.rerun,
                "minimal": f.minimal.iter().map(|(shape, s)| serde_json::json!({
                    "rules": shape,
                    "line": one_line(f.engine, shape, s),
                    "tries": s.tries,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&summary).expect("serializes");
        if let Err(e) = crate::case_files::write_atomically(path, text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            status = EXIT_BAD_INPUT;
        }
    }
    if status == 0 && written > 0 {
        status = 1;
    }
    status
}

async fn fuzz_engine(
    engine: EngineId,
    cases: &[(usize, GenCase, Case)],
    proxy: &str,
    state: std::sync::Arc<RunState>,
    registry: &ProcessRegistry,
    (pacing, args): (Pacing, &FuzzArgs),
    saved: &SavedFindings,
) -> EngineFindings {
    let mut findings = EngineFindings {
        engine: engine.name(),
        browser_version: String::new(),
        ran: 0,
        seconds: 0.0,
        inconclusive: 0,
        inconclusive_reasons: Vec::new(),
        diverging: 0,
        minimal: Vec::new(),
        already: Vec::new(),
        not_shrunk: 0,
        restarts: 0,
        rerun: 0,
        error: None,
    };
    let mut worker = match EngineWorker::start(engine, proxy, state, registry, pacing).await {
        Ok(w) => w,
        Err(e) => {
            findings.error = Some(e.to_string());
            return findings;
        }
    };
    findings.browser_version = worker.browser_version().to_owned();
    let started = Instant::now();
    let just_cases: Vec<Case> = cases.iter().map(|c| c.2.clone()).collect();
    // In about ten chunks of whole batches, with a line after each, so a
    // long run shows it is moving (what a chunk runs is what one call of
    // `run` over all cases would, batch by batch).
    let batch = args.batch.max(1);
    let chunk = just_cases.len().div_ceil(10).div_ceil(batch).max(1) * batch;
    let mut observations = Vec::with_capacity(just_cases.len());
    for part in just_cases.chunks(chunk) {
        observations.extend(worker.run(part).await);
        println!(
            "{}: {}/{} cases in {:.0} s",
            findings.engine,
            observations.len(),
            just_cases.len(),
            started.elapsed().as_secs_f64()
        );
    }
    // A case that observed nothing (a window that never loaded, a session
    // that failed) runs once more.
    let w = &mut worker;
    findings.rerun = rerun_unobserved(&just_cases, &mut observations, |again| async move {
        w.run(&again).await
    })
    .await;
    findings.seconds = started.elapsed().as_secs_f64();
    findings.ran = observations.len();

    // Group divergences by the rules they break (computed by the model);
    // shrink one of each group whose rules are not all saved already.
    let mut groups: BTreeMap<String, (usize, Outcome)> = BTreeMap::new();
    for (k, observation) in observations.into_iter().enumerate() {
        match observation {
            Observation::Observed(o) => {
                if let Some(key) = divergence_key(&cases[k].2, &o) {
                    findings.diverging += 1;
                    groups.entry(key).or_insert((k, o));
                }
            }
            Observation::Inconclusive(reason)
            | Observation::InternalError(reason)
            | Observation::Crashed(reason) => {
                findings.inconclusive += 1;
                if findings.inconclusive_reasons.len() < 5 {
                    findings
                        .inconclusive_reasons
                        .push(format!("case {}: {reason}", cases[k].0));
                }
            }
        }
    }
    let mut trees = generate_with(args.seed, args.cases, args.family());
    let mut shrunk_keys = std::collections::BTreeSet::new();
    for (key, (k, observed)) in groups {
        let keys = finding_keys(
            findings.engine,
            &cases[k].2,
            std::slice::from_ref(&observed),
        );
        if let Some(files) = saved.known(&keys) {
            findings.already.push((key, files));
            continue;
        }
        if findings.minimal.len() >= args.max_shrinks {
            findings.not_shrunk += 1;
            continue;
        }
        let index = cases[k].0;
        let shrunk = shrink(
            trees[index].as_mut(),
            &mut worker,
            &key,
            observed,
            args.shrink_tries,
        )
        .await;
        let case = to_case(&shrunk.case).expect("shrunk cases are valid");
        let keys = finding_keys(
            findings.engine,
            &case,
            std::slice::from_ref(&shrunk.observed),
        );
        if shrunk_keys.insert(keys) {
            findings.minimal.push((key, shrunk));
        }
    }
    findings.restarts = worker.restarts();
    worker.close().await;
    findings
}

fn mutations(case: &GenCase) -> Vec<&'static str> {
    let mut m: Vec<&'static str> = case
        .posts
        .iter()
        .map(|p| p.target_origin.mutation)
        .collect();
    m.sort_unstable();
    m.dedup();
    m
}

fn describe(o: &Outcome) -> String {
    let posts: Vec<String> = o
        .posts
        .iter()
        .map(|p| p.threw.clone().unwrap_or_else(|| "returns".into()))
        .collect();
    let delivered: Vec<String> = o
        .received
        .iter()
        .filter(|(_, d)| !d.is_empty())
        .map(|(w, d)| {
            format!(
                "{w} gets {}",
                d.iter()
                    .map(|x| format!("origin {}", x.origin))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let delivered = if delivered.is_empty() {
        "nothing delivered".to_owned()
    } else {
        delivered.join("; ")
    };
    format!("post {}; {delivered}", posts.join(", "))
}

fn one_line(engine: &str, shape: &str, s: &Shrunk) -> String {
    let case = to_case(&s.case).expect("shrunk cases are valid");
    let model = answer_case(&case).allowed.remove(0);
    let hosts: Vec<String> = s
        .case
        .template
        .windows
        .iter()
        .enumerate()
        .map(|(i, _)| s.case.origins[i].url())
        .collect();
    let targets: Vec<String> = s
        .case
        .posts
        .iter()
        .map(|p| format!("{:?}", p.target_origin.text))
        .collect();
    format!(
        "{engine}: targetOrigin {} to {} ({}): model: {}; engine: {} [{shape}; {} tries]",
        targets.join(", "),
        hosts[s.case.posts[0].to],
        s.case.template.family,
        describe(&model),
        describe(&s.observed),
        s.tries
    )
}

/// Where a finding went.
enum Saved {
    /// Written here.
    New(PathBuf),
    /// Every rule it breaks is broken by findings already saved here
    /// (under `--out`, or moved to `cases/found/`).
    Already(Vec<PathBuf>),
}

/// The findings saved under `out` and adopted in `cases/found/`.
fn saved_findings(out: &std::path::Path) -> SavedFindings {
    let out_snapshots = out.join("snapshots");
    SavedFindings::load(&[
        (out, &out_snapshots),
        (
            std::path::Path::new(ADOPTED),
            std::path::Path::new("snapshots"),
        ),
    ])
}

fn save(
    args: &FuzzArgs,
    command: &str,
    engine: &str,
    s: &Shrunk,
    saved: &mut SavedFindings,
) -> std::io::Result<Saved> {
    let case = to_case(&s.case).expect("shrunk cases are valid");
    let keys = finding_keys(engine, &case, std::slice::from_ref(&s.observed));
    if let Some(files) = saved.known(&keys) {
        return Ok(Saved::Already(files));
    }
    let rules: Vec<String> = pmconf_model::violation::classify(&case, &s.observed)
        .iter()
        .map(|v| v.rule.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys_text: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let description = format!(
        "found by `{command}` in {engine}: {} (rule keys: {})",
        rules.join("; "),
        keys_text.join(", ")
    );
    let yaml = s.case.to_yaml(&description);
    let body_hash = fnv(&s.case.to_yaml(""));
    let slug = mutations(&s.case).join("-");
    let stem = format!("{engine}--{slug}--{:08x}", body_hash as u32);
    let path = args.out.join(format!("{stem}.yaml"));
    let adopted = PathBuf::from(ADOPTED).join(format!("{stem}.yaml"));
    for existing in [&path, &adopted] {
        if existing.exists() {
            return Ok(Saved::Already(vec![existing.clone()]));
        }
    }
    std::fs::create_dir_all(&args.out)?;
    let html = crate::gen::repro::standalone_html(
        &case,
        &description,
        &answer_case(&case).allowed[0],
        &s.observed,
        engine,
    );
    let mut case = case;
    case.description = description.clone();
    write_finding(
        &args.out,
        &stem,
        engine,
        &case,
        &yaml,
        &html,
        std::slice::from_ref(&s.observed),
    )?;
    saved.add(&path, keys);
    Ok(Saved::New(path))
}

/// `--dry-run DIR`: every generated case as YAML, nothing run. Exit status 0,
/// or 2 when a file cannot be written.
fn emit(dir: &std::path::Path, valid: &[(usize, GenCase, Case)], command: &str) -> i32 {
    let files: Vec<(String, String)> = valid
        .iter()
        .map(|(i, gen, _)| {
            let description = format!("case {i} of `{command}` ({})", gen.template.family);
            (format!("case-{i:04}.yaml"), gen.to_yaml(&description))
        })
        .collect();
    if let Err(e) = super::fuzz_races::write_case_files(dir, &files) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    println!("wrote {} cases to {}", valid.len(), dir.display());
    0
}
