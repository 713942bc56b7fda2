//! The case generators: every generated case is valid (the real
//! `pmconf check` accepts it), the model answers every one, and a sample
//! from a fixed seed covers every strategy family.

use pmconf::gen::hosts::UNICODE_LABELS;
use pmconf::gen::target_origin::MUTATIONS;
use pmconf::gen::topology::TEMPLATES;
use pmconf::gen::{generate, GenCase};
use pmconf_model::{answer_case, parse_case};
use std::collections::BTreeMap;
use std::process::Command;

fn sample(seed: u64, count: usize) -> Vec<GenCase> {
    generate(seed, count).iter().map(|t| t.current()).collect()
}

#[test]
fn every_generated_case_is_valid_and_answered() {
    let cases = sample(1, 600);
    let dir = tempfile::tempdir().unwrap();
    for (i, c) in cases.iter().enumerate() {
        let yaml = c.to_yaml(&format!("generated {i}"));
        let case = parse_case("g.yaml", &yaml)
            .unwrap_or_else(|e| panic!("case {i} invalid: {e:?}\n{yaml}"));
        let answer = answer_case(&case);
        assert_eq!(answer.allowed.len(), 1, "case {i}");
        assert_eq!(answer.allowed[0].posts.len(), c.posts.len());
        std::fs::write(dir.path().join(format!("g{i:04}.yaml")), yaml).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "600 cases valid"
    );
}

#[test]
fn a_fixed_seed_covers_every_family() {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for c in sample(2, 2000) {
        for f in c.families() {
            *counts.entry(f).or_default() += 1;
        }
    }
    let mut expected: Vec<&str> = Vec::new();
    expected.extend(MUTATIONS);
    expected.extend(pmconf::gen::call_forms::FAMILIES);
    expected.extend(TEMPLATES.iter().map(|t| t.family));
    expected.extend(UNICODE_LABELS.iter().map(|l| l.1));
    expected.extend([
        "ascii",
        "trailing-dot",
        "ipv4-dotted",
        "ipv4-hex-parts",
        "ipv4-octal-parts",
        "ipv4-two-parts",
        "ipv4-three-parts",
        "ipv4-number",
        "ipv4-hex-number",
        "ipv6-loopback",
        "port-implicit",
        "port-explicit-default",
        "port-other",
        "http",
        "https",
        "plain",
        "special-number",
        "lone-surrogate",
        "undefined",
        "object",
        "uncloneable",
    ]);
    let missing: Vec<&&str> = expected
        .iter()
        .filter(|f| !counts.contains_key(**f))
        .collect();
    assert!(
        missing.is_empty(),
        "families never generated: {missing:?}\ncounts: {counts:?}"
    );
}

#[test]
fn the_same_seed_gives_the_same_cases() {
    let a: Vec<String> = sample(99, 50).iter().map(|c| c.to_yaml("x")).collect();
    let b: Vec<String> = sample(99, 50).iter().map(|c| c.to_yaml("x")).collect();
    let c: Vec<String> = sample(100, 50).iter().map(|c| c.to_yaml("x")).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn generated_hosts_stay_under_test_or_loopback() {
    for c in sample(3, 1000) {
        let yaml = c.to_yaml("x");
        let case = parse_case("g.yaml", &yaml).unwrap();
        for w in &case.windows {
            if let pmconf_model::case::WindowContent::Url(u) = &w.content {
                if let Some(host) = u.host() {
                    assert!(pmconf_model::hosts::check_case_host(&host).is_ok(), "{u}");
                }
            }
        }
    }
}

/// Prints generated case `PMCONF_SHOW_CASE` of seed `PMCONF_SHOW_SEED` (a
/// debugging aid; asserts only that the case is valid).
#[test]
fn show_a_generated_case() {
    let (Ok(seed), Ok(index)) = (
        std::env::var("PMCONF_SHOW_SEED"),
        std::env::var("PMCONF_SHOW_CASE"),
    ) else {
        return;
    };
    let cases = sample(seed.parse().unwrap(), index.parse::<usize>().unwrap() + 1);
    let yaml = cases.last().unwrap().to_yaml("shown");
    assert!(parse_case("shown.yaml", &yaml).is_ok());
    println!("{yaml}");
}

/// The origin generator places frames by the race generator's rule
/// (`gen::races::topology::loadable_frame_origin`): written out here, no
/// frame is http on a name under an https or http-loopback window (Mixed
/// Content §4.3: both origins are potentially trustworthy), nor http on
/// loopback under an https window (`HTTP_LOOPBACK_FRAME_UNDER_HTTPS`:
/// Firefox and WebKitGTK do not run it); an http loopback frame under an
/// http loopback page loads everywhere and is generated (it used to be
/// made https).
#[test]
fn generated_frames_load_in_every_engine() {
    use pmconf_model::case::{Relation, WindowContent};
    let loopback = |u: &url::Url| match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        _ => false,
    };
    let mut bad = Vec::new();
    let mut loopback_under_loopback = 0;
    for (i, c) in sample(3, 1000).iter().enumerate() {
        let case = parse_case("g.yaml", &c.to_yaml("g")).unwrap();
        let url = |w: usize| match &case.windows[w].content {
            WindowContent::Url(u) if matches!(u.scheme(), "http" | "https") => Some(u.clone()),
            _ => None,
        };
        for (w, win) in case.windows.iter().enumerate() {
            let Some(u) = url(w).filter(|u| u.scheme() == "http") else {
                continue;
            };
            let mut around = Vec::new();
            let mut at = w;
            while let Relation::Iframe { parent } = case.windows[at].relation {
                around.extend(url(parent));
                at = parent;
            }
            let https_above = around.iter().any(|p| p.scheme() == "https");
            let loopback_above = around.iter().any(|p| p.scheme() == "http" && loopback(p));
            if https_above || (loopback_above && !loopback(&u)) {
                bad.push(format!("case {i}: {} at {u}", win.name));
            }
            if loopback_above && loopback(&u) {
                loopback_under_loopback += 1;
            }
        }
    }
    assert!(bad.is_empty(), "{bad:?}");
    assert!(loopback_under_loopback > 0);
}
