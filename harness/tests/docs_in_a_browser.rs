//! The README and every page of the book, looked at in a real browser
//! (headless Chromium through pmconf's own engine code): each page loads
//! from `file://` with a title and a heading, every link on it (the
//! sidebar that mdBook draws with JavaScript too) names a page that exists
//! and an anchor that page has, and a screenshot of each is written to
//! `target/docs-screenshots/` for people to look at. The README is built
//! as a one-page book whose links reach the book's pages as they do on
//! the repository (`docs/src/*.md`).
//!
//! Also: an HTML run report's needs-action box, as the browser draws it,
//! is red only when something needs action (issue 27 item 9).
//!
//! Chromium and mdBook must be installed (scripts/install-engines,
//! scripts/install-ci-tools); a missing one skips with a printed reason,
//! unless CI is set: then it fails.

mod common;

use common::links::{attribute_values, is_external};
use common::{build_book, mdbook, workspace};
use pmconf::engine::{discover, EngineId, ProcessRegistry};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The book in `out/book`, and the README as a book of one page in
/// `out/readme`, with the book's pages where its links expect them
/// (`docs/src/`).
fn build_both(mdbook: &Path, out: &Path) -> (PathBuf, PathBuf) {
    let book = out.join("book");
    build_book(mdbook, &book);
    let source = out.join("readme-source");
    std::fs::create_dir_all(source.join("src")).unwrap();
    std::fs::write(
        source.join("book.toml"),
        "[book]\ntitle = \"pmconf README\"\nsrc = \"src\"\n[build]\ncreate-missing = false\n",
    )
    .unwrap();
    std::fs::write(source.join("src/SUMMARY.md"), "[pmconf](README.md)\n").unwrap();
    std::fs::copy(workspace().join("README.md"), source.join("src/README.md")).unwrap();
    let readme = out.join("readme");
    let built = std::process::Command::new(mdbook)
        .arg("build")
        .arg(&source)
        .arg("--dest-dir")
        .arg(&readme)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", common::text(&built));
    copy_dir(&book, &readme.join("docs/src"));
    (book, readme)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// What the browser found on a page.
struct Seen {
    title: String,
    heading: String,
    links: Vec<String>,
    ids: BTreeSet<String>,
}

async fn look(c: &fantoccini::Client, page: &Path) -> Seen {
    c.goto(&format!("file://{}", page.display())).await.unwrap();
    let mut seen = Value::Null;
    // The sidebar is drawn by a script once the page has loaded.
    for _ in 0..100 {
        seen = c
            .execute(
                "if (document.readyState !== 'complete') return null;
                 const links = [...document.querySelectorAll('a[href]')].map((a) => a.href);
                 return {title: document.title,
                         heading: (document.querySelector('main h1') || {}).textContent || '',
                         links,
                         sidebar: document.querySelectorAll('.sidebar a[href], mdbook-sidebar-scrollbox a[href]').length,
                         ids: [...document.querySelectorAll('[id]')].map((e) => e.id)};",
                vec![],
            )
            .await
            .unwrap();
        if seen["sidebar"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    Seen {
        title: seen["title"].as_str().unwrap_or("").to_owned(),
        heading: seen["heading"].as_str().unwrap_or("").to_owned(),
        links: strings(&seen["links"]),
        ids: strings(&seen["ids"]).into_iter().collect(),
    }
}

/// A `file://` URL's path and fragment, percent-decoded.
fn file_target(url: &str) -> Option<(PathBuf, Option<String>)> {
    let parsed = url::Url::parse(url).ok()?;
    if parsed.scheme() != "file" {
        return None;
    }
    let path = parsed.to_file_path().ok()?;
    let fragment = parsed
        .fragment()
        .filter(|f| !f.is_empty())
        .map(common::links::percent_decode);
    Some((path, fragment))
}

/// The ids of a page the browser did not visit, from its HTML.
fn ids_in_file(path: &Path) -> BTreeSet<String> {
    let html = std::fs::read_to_string(path).unwrap_or_default();
    attribute_values(&html, "id").into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_and_every_book_page_load_with_no_broken_link() {
    let Some(mdbook) = mdbook() else { return };
    let installed = match discover(EngineId::Chromium) {
        Ok(i) => i,
        Err(missing) if common::ci() => panic!("CI is set and Chromium is missing: {missing}"),
        Err(missing) => {
            eprintln!("skipping: {missing}");
            return;
        }
    };
    let out = tempfile::tempdir().unwrap();
    let (book, readme) = build_both(&mdbook, out.path());
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&book)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        // 404.html is for a server (root-relative links); print.html asks
        // the browser to print as it loads.
        .filter(|p| {
            !["404.html", "print.html", "toc.html"]
                .iter()
                .any(|n| p.ends_with(n))
        })
        .collect();
    pages.sort();
    pages.insert(0, readme.join("index.html"));
    let shots = workspace().join("target/docs-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let registry = ProcessRegistry::new();
    let _cleanup = registry.end_all_on_drop();
    let (session, _proxy) =
        common::session_for_pages(EngineId::Chromium, &installed, &registry).await;
    let c = &session.client;
    c.set_window_size(1280, 1600).await.unwrap();

    let mut seen: BTreeMap<PathBuf, Seen> = BTreeMap::new();
    for page in &pages {
        let found = look(c, page).await;
        let name = page.strip_prefix(out.path()).unwrap().display().to_string();
        assert!(
            found.title.contains("pmconf"),
            "{name}: title {:?}",
            found.title
        );
        assert!(!found.heading.trim().is_empty(), "{name}: no heading");
        let png = c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
        let shot = name.replace(['/', '\\'], "_").replace(".html", ".png");
        std::fs::write(shots.join(shot), png).unwrap();
        seen.insert(page.clone(), found);
    }

    let mut broken = Vec::new();
    for (page, found) in &seen {
        let name = page.strip_prefix(out.path()).unwrap().display().to_string();
        for link in &found.links {
            if is_external(link) && !link.starts_with("file:") {
                continue;
            }
            let Some((target, fragment)) = file_target(link) else {
                broken.push(format!("{name}: {link} (not a file link)"));
                continue;
            };
            let target = if target.is_dir() {
                target.join("index.html")
            } else {
                target
            };
            if !target.is_file() {
                broken.push(format!("{name}: {link} (no such file)"));
                continue;
            }
            if let Some(fragment) = fragment {
                let ids = match seen.get(&target) {
                    Some(s) => s.ids.clone(),
                    None => ids_in_file(&target),
                };
                if !ids.contains(&fragment) {
                    broken.push(format!("{name}: {link} (no id `{fragment}` there)"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    // The README reached the book through its links.
    let readme_links = &seen[&readme.join("index.html")].links;
    assert!(
        readme_links
            .iter()
            .any(|l| l.ends_with("docs/src/commands.html")),
        "{readme_links:?}"
    );

    // An HTML run report: the needs-action box is red only when something
    // needs action.
    let border = |html: String| async {
        let page = out.path().join("report.html");
        std::fs::write(&page, html).unwrap();
        c.goto(&format!("file://{}", page.display())).await.unwrap();
        c.execute(
            "return getComputedStyle(document.getElementById('needs-action')).borderTopColor",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
    };
    let red = "rgb(176, 0, 32)";
    let clean = border(report(false)).await;
    assert_ne!(clean, red, "an empty needs-action box is not red");
    let failing = border(report(true)).await;
    assert_eq!(failing, red, "a box that lists something is red");
    let png = c.screenshot().await.unwrap();
    std::fs::write(shots.join("report-needs-action.png"), png).unwrap();
    session.close().await.unwrap();
    registry.end_all();
}

/// An HTML report of one result: as accepted, or with a changed snapshot.
fn report(changed: bool) -> String {
    use pmconf::run::events::{CaseResult, EngineInfo, RunEvent, SnapshotStatus};
    use pmconf::run::verdict::Verdict;
    let snapshot = if changed {
        SnapshotStatus::Changed {
            pending: "p".into(),
            diff: "d".into(),
        }
    } else {
        SnapshotStatus::Matched
    };
    let record = pmconf::report::RunRecord::from_events(&[
        RunEvent::SuiteStart {
            engines: vec!["chromium".into()],
            cases: 1,
        },
        RunEvent::EngineStart(EngineInfo {
            engine: "chromium".into(),
            browser_version: "1".into(),
        }),
        RunEvent::CaseEnd(CaseResult::bare(
            "chromium",
            "a.yaml",
            Verdict::Conforms,
            snapshot,
        )),
        RunEvent::SuiteEnd { seconds: 1.0 },
    ]);
    pmconf::report::render_html(&record)
}
