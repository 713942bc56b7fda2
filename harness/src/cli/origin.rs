//! `pmconf origin` and `pmconf target-origin`.

use super::{Format, EXIT_BAD_INPUT};
use pmconf_model::origin::{OpaqueOriginAllocator, Origin};
use pmconf_model::target_origin::{describe_target_origin, TargetOriginKind};
use pmconf_model::url_origin::{origin_of_parsed_url, parse_url};
use serde::Serialize;

/// One line of `--format json` output. Keys are stable.
#[derive(Serialize)]
struct Line<'a> {
    input: &'a str,
    kind: &'a str,
    serialization: Option<String>,
}

fn print_line(format: Format, line: &Line, text: &str) {
    match format {
        Format::Json => println!("{}", serde_json::to_string(line).expect("serializes")),
        Format::Text | Format::Yaml => println!("{text}"),
    }
}

/// `pmconf origin URL...`.
pub fn run_origin(inputs: &[String], format: Format) -> i32 {
    for input in inputs {
        let mut alloc = OpaqueOriginAllocator::new();
        match parse_url(input) {
            None => print_line(
                format,
                &Line {
                    input,
                    kind: "failure",
                    serialization: None,
                },
                "failure",
            ),
            Some(url) => {
                let origin = origin_of_parsed_url(&url, &mut alloc);
                let s = origin.ascii_serialization();
                let kind = if origin.is_opaque() {
                    "opaque"
                } else {
                    "origin"
                };
                print_line(
                    format,
                    &Line {
                        input,
                        kind,
                        serialization: Some(s.clone()),
                    },
                    &s,
                );
            }
        }
    }
    0
}

/// Parses `--from`: a URL or origin (`http://a.test:8000`), or `null` for an
/// opaque origin.
pub fn parse_from(from: &str) -> Result<Origin, String> {
    if from == "null" {
        return Ok(OpaqueOriginAllocator::new().new_opaque_origin());
    }
    let url = parse_url(from).ok_or_else(|| {
        format!("--from `{from}` is not a URL; give an origin such as http://a.test:8000, or null")
    })?;
    Ok(origin_of_parsed_url(
        &url,
        &mut OpaqueOriginAllocator::new(),
    ))
}

/// `pmconf target-origin --from ORIGIN VALUE...`.
pub fn run_target_origin(from: &str, values: &[String], format: Format) -> i32 {
    let from = match parse_from(from) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    for value in values {
        let report = describe_target_origin(value, &from);
        let (kind, text) = match report.kind {
            TargetOriginKind::Wildcard => ("wildcard", "*".to_owned()),
            TargetOriginKind::Origin => {
                ("origin", report.serialization.clone().unwrap_or_default())
            }
            TargetOriginKind::Opaque => ("opaque", "opaque".to_owned()),
            TargetOriginKind::SyntaxError => ("syntax-error", "SyntaxError".to_owned()),
        };
        print_line(
            format,
            &Line {
                input: value,
                kind,
                serialization: report.serialization.clone(),
            },
            &text,
        );
    }
    0
}
