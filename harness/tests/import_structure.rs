//! The harness's import structure, read from its source: generation
//! (`gen`) imports only the model, the runner (`run`) imports neither
//! generation, fuzzing nor reports (it reports through `RunEvent`s), the
//! crate's top-level modules import each other without a circle, and the
//! two fuzz commands import each other one way only.
//!
//! Every `.rs` file under `harness/src/` is read as text: comments,
//! strings and character literals are blanked, each `crate::…` and
//! `super::…` path (with `{…}` groups) is resolved to the module it
//! names, inline `mod name { … }` blocks included.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A path the source names, resolved from the crate root, with the line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Import {
    line: usize,
    path: Vec<String>,
}

/// `text` with comments, strings (raw ones too) and character literals
/// replaced by spaces, newlines kept so that lines still count.
fn blanked(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let at = |i: usize, k: usize| b.get(i + k).copied();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '/' && at(i, 1) == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if b[i] == '/' && at(i, 1) == Some('*') {
            let mut depth = 0;
            loop {
                if i >= b.len() {
                    break;
                }
                if b[i] == '/' && at(i, 1) == Some('*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && at(i, 1) == Some('/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if b[i] == 'r' && (at(i, 1) == Some('"') || at(i, 1) == Some('#')) && {
            let mut k = 1;
            while at(i, k) == Some('#') {
                k += 1;
            }
            at(i, k) == Some('"') && (i == 0 || !(b[i - 1].is_alphanumeric() || b[i - 1] == '_'))
        } {
            // r"…", r#"…"#: ends at a quote followed by as many hashes.
            let mut hashes = 0;
            out.push(' ');
            i += 1;
            while b[i] == '#' {
                hashes += 1;
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
            while i < b.len() {
                if b[i] == '"' && (1..=hashes).all(|k| at(i, k) == Some('#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                out.push(blank(b[i]));
                i += 1;
            }
        } else if b[i] == '"' || b[i] == '\'' && (at(i, 2) == Some('\'') || at(i, 1) == Some('\\'))
        {
            // A string, or a character literal: 'x', '\n', '\'', '\u{..}'
            // (a lifetime has no closing quote).
            i = blank_quoted(&b, i, &mut out);
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Blanks the literal whose opening quote is at `i`, escapes included
/// (newlines kept); returns where it ends.
fn blank_quoted(b: &[char], mut i: usize, out: &mut String) -> usize {
    let quote = b[i];
    out.push(' ');
    i += 1;
    while i < b.len() && b[i] != quote {
        let n = if b[i] == '\\' { 2 } else { 1 };
        for c in b.iter().skip(i).take(n) {
            out.push(if *c == '\n' { '\n' } else { ' ' });
        }
        i += n;
    }
    out.push(' ');
    i + 1
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The identifier starting at `at`, if one does.
fn ident_at(b: &[char], at: usize) -> Option<String> {
    let s: String = b[at..].iter().take_while(|c| is_ident(**c)).collect();
    (!s.is_empty()).then_some(s)
}

/// Every path after `crate::` or `super::` (each item of a `{…}` group
/// separately) in `code`, resolved from `module` (the file's module path;
/// inline `mod name {` blocks add their name while open).
fn imports(module: &[String], code: &str) -> Vec<Import> {
    let b: Vec<char> = code.chars().collect();
    let line_at = |i: usize| b[..i].iter().filter(|c| **c == '\n').count() + 1;
    let mut found = Vec::new();
    // Open inline modules: (name, brace depth inside them).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < b.len() {
        let word_start = i == 0 || !is_ident(b[i - 1]);
        match b[i] {
            '{' => depth += 1,
            '}' => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
        if word_start && ident_at(&b, i).as_deref() == Some("mod") {
            let mut k = i + 3;
            while k < b.len() && b[k].is_whitespace() {
                k += 1;
            }
            if let Some(name) = ident_at(&b, k) {
                let mut j = k + name.len();
                while j < b.len() && b[j].is_whitespace() {
                    j += 1;
                }
                if b.get(j) == Some(&'{') {
                    inline.push((name, depth + 1));
                }
            }
        }
        let start = ident_at(&b, i).filter(|w| word_start && (w == "crate" || w == "super"));
        let Some(first) = start else {
            i += 1;
            continue;
        };
        if b.get(i + first.len()..i + first.len() + 2) != Some(&[':', ':']) {
            i += first.len();
            continue;
        }
        let mut here: Vec<String> = module.to_vec();
        here.extend(inline.iter().map(|(n, _)| n.clone()));
        let mut base: Vec<String> = Vec::new();
        let mut k = i;
        // crate:: or a run of super::
        if first == "crate" {
            k += "crate::".len();
        } else {
            base = here.clone();
            while ident_at(&b, k).as_deref() == Some("super")
                && b.get(k + 5..k + 7) == Some(&[':', ':'])
            {
                base.pop();
                k += "super::".len();
            }
        }
        for tail in path_items(&b, k) {
            let mut path = base.clone();
            path.extend(tail);
            found.push(Import {
                line: line_at(i),
                path,
            });
        }
        i = k;
    }
    found
}

/// The paths starting at `at`: `a::b::C`, or each item of `{a, b::{c}}`
/// (the first segments of nested groups are enough).
fn path_items(b: &[char], at: usize) -> Vec<Vec<String>> {
    let mut segments = Vec::new();
    let mut k = at;
    loop {
        while k < b.len() && b[k].is_whitespace() {
            k += 1;
        }
        if b.get(k) == Some(&'{') {
            let mut items = Vec::new();
            k += 1;
            loop {
                while k < b.len() && (b[k].is_whitespace() || b[k] == ',') {
                    k += 1;
                }
                if k >= b.len() || b[k] == '}' {
                    break;
                }
                for tail in path_items(b, k) {
                    let mut p = segments.clone();
                    p.extend(tail);
                    items.push(p);
                }
                // Skip to this item's end: a comma or the group's brace.
                let mut depth = 0;
                while k < b.len() {
                    match b[k] {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => break,
                        _ => {}
                    }
                    k += 1;
                }
            }
            return items;
        }
        let Some(word) = ident_at(b, k) else { break };
        k += word.len();
        segments.push(word);
        if b.get(k..k + 2) != Some(&[':', ':']) {
            break;
        }
        k += 2;
    }
    vec![segments]
}

/// Every `.rs` file under `dir`, with its module path below `src/`.
fn sources(src: &Path) -> Vec<(PathBuf, Vec<String>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut module: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            (p, module)
        })
        .collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every import of every file under `src/<top>/` (all files when `top`
/// is empty), as `file:line: crate::path`.
fn imports_under(top: &str) -> Vec<(String, Import)> {
    let root = src();
    sources(&root)
        .into_iter()
        .filter(|(_, m)| top.is_empty() || m.first().map(String::as_str) == Some(top))
        .flat_map(|(p, m)| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.strip_prefix(&root).unwrap().display().to_string();
            imports(&m, &blanked(&text))
                .into_iter()
                .map(move |i| (name.clone(), i))
        })
        .collect()
}

/// The imports under `src/<top>/` that name a top-level module in
/// `forbidden` (or, with `only`, any module but `top`).
fn offending(top: &str, forbidden: &[&str], only: bool) -> Vec<String> {
    imports_under(top)
        .into_iter()
        .filter(|(_, i)| match i.path.first() {
            Some(first) if only => first != top,
            Some(first) => forbidden.contains(&first.as_str()),
            None => false,
        })
        .map(|(file, i)| format!("src/{file}:{}: crate::{}", i.line, i.path.join("::")))
        .collect()
}

#[test]
fn generation_imports_only_the_model() {
    let bad = offending("gen", &[], true);
    assert!(
        bad.is_empty(),
        "gen/ imports more than gen and the model:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_runner_imports_neither_generation_nor_fuzzing_nor_reports() {
    let bad = offending(
        "run",
        &["gen", "fuzz", "report", "cli", "nightly", "export"],
        false,
    );
    assert!(
        bad.is_empty(),
        "run/ imports what sits above it:\n{}",
        bad.join("\n")
    );
}

#[test]
fn fuzzing_does_not_import_the_command_line() {
    let bad = offending("fuzz", &["cli"], false);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// A circle in `graph`, if there is one (as the nodes in order).
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(k) = path.iter().position(|p| p == n) {
            let mut c = path[k..].to_vec();
            c.push(n.to_owned());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_owned());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// Which top-level module imports which (the crate root's own file
/// aside), read from the source.
fn top_level_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let root = src();
    for (p, m) in sources(&root) {
        let Some(from) = m.first().cloned() else {
            continue;
        };
        let text = std::fs::read_to_string(&p).unwrap();
        for i in imports(&m, &blanked(&text)) {
            if let Some(to) = i.path.first().filter(|to| **to != from) {
                graph.entry(from.clone()).or_default().insert(to.clone());
            }
        }
    }
    graph
}

#[test]
fn the_top_level_modules_import_each_other_without_a_circle() {
    let graph = top_level_graph();
    assert!(
        graph.contains_key("fuzz")
            && graph["fuzz"].contains("gen")
            && graph["fuzz"].contains("run"),
        "the fuzzer runs generated cases: {graph:#?}"
    );
    if let Some(c) = circle(&graph) {
        panic!("an import circle: {}\n{graph:#?}", c.join(" -> "));
    }
}

#[test]
fn the_fuzz_commands_import_each_other_one_way() {
    let names = |file: &str| -> BTreeSet<String> {
        let text = std::fs::read_to_string(src().join(file)).unwrap();
        let module: Vec<String> = file
            .trim_end_matches(".rs")
            .split('/')
            .map(String::from)
            .collect();
        imports(&module, &blanked(&text))
            .into_iter()
            .filter(|i| i.path.first().map(String::as_str) == Some("cli"))
            .filter_map(|i| i.path.get(1).cloned())
            .collect()
    };
    assert!(
        names("cli/fuzz.rs").contains("fuzz_races"),
        "`fuzz --races` runs the race campaign"
    );
    assert!(
        !names("cli/fuzz_races.rs").contains("fuzz"),
        "{:?}",
        names("cli/fuzz_races.rs")
    );
}

/// The reader itself, on a source made to fool it.
#[test]
fn the_reader_finds_real_imports_and_nothing_else() {
    let code = r####"
//! crate::report in a doc comment
use crate::{gen::hosts, run::{events::RunEvent, verdict}};
use super::super::fuzz;
const S: &str = "crate::cli in a string";
const R: &str = r#"crate::cli in a "raw" string"#;
const C: char = '{';
fn f<'a>(x: &'a str) { /* crate::nightly /* nested */ */ let _ = crate::engine::EngineId::Chromium; }
#[cfg(test)]
mod tests {
    use super::super::known;
    fn g() { let _ = '\''; }
}
use super::layout;
"####;
    let module = vec!["gen".to_owned(), "races".to_owned()];
    let got: Vec<(usize, String)> = imports(&module, &blanked(code))
        .into_iter()
        .map(|i| (i.line, i.path.join("::")))
        .collect();
    let want = [
        (3, "gen::hosts"),
        (3, "run::events::RunEvent"),
        (3, "run::verdict"),
        (4, "fuzz"),
        (8, "engine::EngineId::Chromium"),
        (11, "gen::known"),
        (14, "gen::layout"),
    ];
    assert_eq!(
        got,
        want.map(|(l, p)| (l, p.to_owned())).to_vec(),
        "{got:#?}"
    );
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    assert_eq!(circle(&graph), None);
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        circle(&graph).map(|c| c.join(" -> ")).as_deref(),
        Some("a -> b -> c -> a")
    );
}
