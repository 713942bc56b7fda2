//! Line and column of every key and item in a YAML case file.
//!
//! `serde_yaml` reports positions for syntax errors and unknown fields, but
//! the typed value it returns has none, so errors found after parsing
//! (an unknown window, a cycle) would have no line to name. This walks the
//! same text once with yaml-rust2's event parser and records where each
//! path (`windows.child.parent`, `steps[1].post.to`) starts.

use std::collections::BTreeMap;
use yaml_rust2::parser::{Event, Parser};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// Where each path of the document starts. A path that occurs twice (a
/// duplicate key) keeps every occurrence.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    paths: BTreeMap<String, Vec<Location>>,
}

impl SourceMap {
    /// Maps `text`; on a YAML syntax error, maps what came before it.
    pub fn build(text: &str) -> Self {
        let mut map = SourceMap::default();
        let mut parser = Parser::new_from_str(text);
        let mut walker = Walker {
            parser: &mut parser,
            map: &mut map,
        };
        // Skip StreamStart and DocumentStart, then walk the root node.
        loop {
            match walker.next() {
                Some((Event::DocumentStart, _)) => break,
                Some((Event::StreamStart, _)) => continue,
                _ => return map,
            }
        }
        if let Some((event, loc)) = walker.next() {
            walker.node(event, loc, String::new());
        }
        map
    }

    /// The first place `path` occurs.
    pub fn locate(&self, path: &str) -> Option<Location> {
        self.paths.get(path).and_then(|v| v.first().copied())
    }

    /// Every place `path` occurs.
    pub fn occurrences(&self, path: &str) -> &[Location] {
        self.paths.get(path).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The location of `path`, or of its nearest ancestor that was mapped.
    pub fn locate_nearest(&self, path: &str) -> Location {
        let mut p = path;
        loop {
            if let Some(loc) = self.locate(p) {
                return loc;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return Location { line: 1, column: 1 },
            }
        }
    }
}

struct Walker<'a, 'b> {
    parser: &'a mut Parser<std::str::Chars<'b>>,
    map: &'a mut SourceMap,
}

impl Walker<'_, '_> {
    fn next(&mut self) -> Option<(Event, Location)> {
        let (event, marker) = self.parser.next_token().ok()?;
        // yaml-rust2 lines are 1-based, columns 0-based.
        Some((
            event,
            Location {
                line: marker.line(),
                column: marker.col() + 1,
            },
        ))
    }

    fn record(&mut self, path: &str, loc: Location) {
        self.map.paths.entry(path.to_owned()).or_default().push(loc);
    }

    /// Walks one node whose first event is `event`; returns false at a
    /// syntax error.
    fn node(&mut self, event: Event, loc: Location, path: String) -> bool {
        match event {
            Event::MappingStart(..) => loop {
                let Some((key, key_loc)) = self.next() else {
                    return false;
                };
                let key = match key {
                    Event::MappingEnd => return true,
                    Event::Scalar(s, ..) => s,
                    other => {
                        // A complex key: walk it anonymously.
                        if !self.node(other, key_loc, format!("{path}.?")) {
                            return false;
                        }
                        "?".to_owned()
                    }
                };
                let child = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                self.record(&child, key_loc);
                let Some((value, value_loc)) = self.next() else {
                    return false;
                };
                if !self.node(value, value_loc, child) {
                    return false;
                }
            },
            Event::SequenceStart(..) => {
                let mut i = 0;
                loop {
                    let Some((item, item_loc)) = self.next() else {
                        return false;
                    };
                    if matches!(item, Event::SequenceEnd) {
                        return true;
                    }
                    let child = format!("{path}[{i}]");
                    self.record(&child, item_loc);
                    if !self.node(item, item_loc, child) {
                        return false;
                    }
                    i += 1;
                }
            }
            _ => {
                let _ = loc;
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_keys_and_items() {
        let text = "description: x\nwindows:\n  top: { url: 'http://a.test/' }\n  child:\n    parent: top\nsteps:\n  - post: { from: top, to: child }\n";
        let map = SourceMap::build(text);
        assert_eq!(
            map.locate("description"),
            Some(Location { line: 1, column: 1 })
        );
        assert_eq!(
            map.locate("windows.top"),
            Some(Location { line: 3, column: 3 })
        );
        assert_eq!(
            map.locate("windows.top.url"),
            Some(Location {
                line: 3,
                column: 10
            })
        );
        assert_eq!(
            map.locate("windows.child.parent"),
            Some(Location { line: 5, column: 5 })
        );
        assert_eq!(
            map.locate("steps[0].post.to"),
            Some(Location {
                line: 7,
                column: 24
            })
        );
        assert_eq!(
            map.locate_nearest("steps[0].post.nope"),
            Location { line: 7, column: 5 }
        );
    }

    #[test]
    fn keeps_duplicate_keys() {
        let map = SourceMap::build("windows:\n  a: {}\n  a: {}\n");
        assert_eq!(map.occurrences("windows.a").len(), 2);
        assert_eq!(map.occurrences("windows.a")[1].line, 3);
    }
}
