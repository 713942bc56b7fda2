//! `pmconf export wpt`: cases as web-platform-tests, a manifest of what
//! was exported and refused, and verification in the engines.

use crate::atomic::{write_atomically, Dir};
use crate::case_files::load_cases;
use crate::engine::{discover, EngineId, ProcessRegistry};
use crate::export::manifest::{self, Manifest};
use crate::export::verify::{self, agreement};
use crate::export::{export_case, shared_files};
use std::path::{Path, PathBuf};

/// `pmconf export ...`
#[derive(clap::Subcommand, Debug)]
pub enum ExportCommand {
    /// Write each case as a testharness.js test in WPT's layout
    /// (webmessaging/pmconf/<topic>/<case>.html), refusing with a reason
    /// what WPT cannot express.
    Wpt(WptArgs),
}

/// `pmconf export wpt`.
#[derive(clap::Args, Debug)]
pub struct WptArgs {
    /// Case files or directories.
    #[arg(required = true)]
    pub cases: Vec<PathBuf>,
    /// The WPT root to write into (webmessaging/pmconf/... and
    /// pmconf-wpt-manifest.json).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print what was exported and what was refused, and why, grouped.
    #[arg(long)]
    pub manifest: bool,
    /// Run the exported tests under wptserve in the engines (needs --out
    /// and `bash scripts/install-wpt-tools`), and print the agreement
    /// table with pmconf's accepted verdicts.
    #[arg(long, requires = "out")]
    pub verify: bool,
    /// Engines to verify in (default: every installed one).
    #[arg(long, value_delimiter = ',')]
    pub engine: Vec<String>,
    /// With --verify: also run the same cases through pmconf's own runner
    /// in the same session, and print the time per case of both.
    #[arg(long, requires = "verify")]
    pub side_by_side: bool,
    /// How often each race case's test runs in each engine (it fails when
    /// any run fails), as `pmconf run --repeat`.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Where the accepted snapshots are.
    #[arg(long, default_value = "snapshots")]
    pub snapshots: PathBuf,
}

fn write_export(
    out: &Path,
    exported: &[crate::export::ExportedCase],
    m: &Manifest,
) -> std::io::Result<()> {
    for f in shared_files()
        .iter()
        .chain(exported.iter().flat_map(|e| e.files.iter()))
    {
        let path = out.join(&f.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        write_atomically(&path, f.contents.as_bytes(), Dir::Make)?;
    }
    let json = serde_json::to_string_pretty(m).expect("the manifest serializes");
    write_atomically(
        &out.join(manifest::FILE_NAME),
        format!("{json}\n").as_bytes(),
        Dir::Make,
    )
}

fn engines(requested: &[String]) -> Result<Vec<EngineId>, String> {
    if requested.is_empty() || requested.iter().any(|e| e == "all") {
        return Ok(EngineId::ALL
            .into_iter()
            .filter(|e| match discover(*e) {
                Ok(_) => true,
                Err(m) => {
                    eprintln!("skipping {}: {m}", e.name());
                    false
                }
            })
            .collect());
    }
    requested
        .iter()
        .map(|e| {
            let id: EngineId = e.parse().map_err(|x| format!("{x}"))?;
            discover(id).map_err(|m| format!("{}: {m}", id.name()))?;
            Ok(id)
        })
        .collect()
}

/// Runs `pmconf export`.
pub async fn run(command: ExportCommand, registry: &ProcessRegistry) -> i32 {
    let ExportCommand::Wpt(args) = command;
    let cases = match load_cases(&args.cases) {
        Ok(c) => c,
        Err(errors) => {
            super::report_load_errors(&errors);
            return super::EXIT_BAD_INPUT;
        }
    };
    let mut m = Manifest::default();
    let mut exported = Vec::new();
    for c in &cases {
        let text = match std::fs::read_to_string(&c.path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", c.name);
                return super::EXIT_BAD_INPUT;
            }
        };
        let result = export_case(c, &text);
        m.add(&c.name, &result);
        if let Ok(e) = result {
            exported.push(e);
        }
    }
    if let Some(out) = &args.out {
        if let Err(e) = write_export(out, &exported, &m) {
            eprintln!("error: writing under {}: {e}", out.display());
            return super::EXIT_BAD_INPUT;
        }
    }
    if args.manifest {
        print!("{}", m.to_text());
    } else {
        println!("{} exported, {} refused", m.exported.len(), m.refused.len());
        for (group, n) in &m.refused_by_group {
            println!("  refused, {group}: {n}");
        }
        if let Some(out) = &args.out {
            println!(
                "written under {} (manifest: {})",
                out.display(),
                manifest::FILE_NAME
            );
        }
    }
    if !args.verify {
        return 0;
    }
    let out = args.out.as_deref().expect("--verify requires --out");
    let engines = match engines(&args.engine) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return super::EXIT_BAD_INPUT;
        }
    };
    let own: Vec<_> = if args.side_by_side {
        cases
            .iter()
            .filter(|c| m.exported.iter().any(|e| e.case == c.name))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let plan = verify::Plan {
        export_dir: out,
        exported: &m.exported,
        engines: &engines,
        own_cases: &own,
        race_repeat: args.repeat,
    };
    let runs = match verify::verify(plan, registry).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return super::EXIT_BAD_INPUT;
        }
    };
    let cells = agreement::table(&runs, &args.snapshots);
    let names: Vec<String> = runs.iter().map(|r| r.engine.clone()).collect();
    println!("\n{}", agreement::markdown(&cells, &names));
    let disagree: Vec<_> = cells.iter().filter(|c| !c.agrees).collect();
    for c in &disagree {
        println!(
            "DISAGREE {} in {}: pmconf {}{}, exported test {}{}",
            c.case,
            c.engine,
            c.verdict,
            c.fresh
                .as_deref()
                .map(|f| format!(" (this session: {f})"))
                .unwrap_or_default(),
            c.status,
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
    }
    println!("{} of {} agree", cells.len() - disagree.len(), cells.len());
    if args.side_by_side {
        println!("\n{}", agreement::timing(&runs));
    }
    let json = serde_json::json!({"engines": runs, "agreement": cells});
    let path = out.join("pmconf-wpt-verify.json");
    if let Err(e) = write_atomically(&path, format!("{json:#}\n").as_bytes(), Dir::Make) {
        eprintln!("error: {}: {e}", path.display());
    }
    i32::from(!disagree.is_empty())
}
