//! A case's hosts and ports moved onto WPT's own: the host list of WPT's
//! server configuration (`browser_host` `web-platform.test`, the
//! alternate host `not-web-platform.test`, each with the subdomains
//! `www`, `www1`, `www2`, `élève` and `天気の良い日`) and its ports
//! (`ports[http]` 8000, 8001; `ports[https]` 8443, 8444).
//!
//! Each string of a case that names a host (a window or navigation URL,
//! a targetOrigin, a `document.domain` value, a string argument of a raw
//! call) is read as text: every run of host characters ending in `.test`
//! is matched against the case's domains, and its *spelling* is carried
//! (a lowercase ASCII name as `{{host}}`, an all-uppercase one as the
//! uppercased host, a Unicode IDN as WPT's Unicode label); prefix labels
//! that name no window (`xn--.a.test`) stay as written. What cannot be
//! carried is refused, never approximated. The result is [`Spelled`]:
//! the same pieces rendered either as WPT template text (`.sub.` files)
//! or as the real names wptserve substitutes, which is how the model
//! answers the mapped case.

use super::refusal::{Refusal, RefusalGroup};
use pmconf_model::case::{Case, Relation, WindowContent};

/// WPT's primary host (`{{host}}`).
pub const BROWSER_HOST: &str = "web-platform.test";
/// WPT's alternate host (`{{hosts[alt][]}}`), another site.
pub const ALT_HOST: &str = "not-web-platform.test";
/// WPT's HTTP ports (`{{ports[http][i]}}`).
pub const HTTP_PORTS: [u16; 2] = [8000, 8001];
/// WPT's HTTPS ports (`{{ports[https][i]}}`).
pub const HTTPS_PORTS: [u16; 2] = [8443, 8444];

/// WPT's ASCII subdomains (the empty one is the host itself).
const ASCII_SUBS: [&str; 4] = ["", "www", "www1", "www2"];
/// WPT's IDN subdomains: Unicode label and its punycode.
const IDN_SUBS: [(&str, &str); 2] = [
    ("élève", "xn--lve-6lad"),
    ("天気の良い日", "xn--n8j6ds53lwwkrqhv28a"),
];

/// One host of WPT's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WptHost {
    /// Under the alternate host (another site) rather than the primary.
    pub alt: bool,
    /// The subdomain: "" for the host itself, an ASCII label, or an IDN
    /// label's index in [`IDN_SUBS`] (`idn`).
    pub sub: &'static str,
    /// Whether `sub` is an IDN label.
    pub idn: bool,
}

impl WptHost {
    fn base(self) -> &'static str {
        if self.alt {
            ALT_HOST
        } else {
            BROWSER_HOST
        }
    }

    fn base_token(self) -> &'static str {
        if self.alt {
            "{{hosts[alt][]}}"
        } else {
            "{{host}}"
        }
    }

    fn idn_pair(self) -> (&'static str, &'static str) {
        *IDN_SUBS
            .iter()
            .find(|(u, _)| *u == self.sub)
            .expect("an IDN subdomain")
    }

    /// The name wptserve substitutes, ASCII (punycode for IDN labels).
    pub fn ascii(self) -> String {
        match (self.sub, self.idn) {
            ("", _) => self.base().to_owned(),
            (_, true) => format!("{}.{}", self.idn_pair().1, self.base()),
            (sub, false) => format!("{sub}.{}", self.base()),
        }
    }

    /// The name with its IDN label in Unicode.
    pub fn unicode(self) -> String {
        if self.idn {
            format!("{}.{}", self.idn_pair().0, self.base())
        } else {
            self.ascii()
        }
    }

    /// The template text for the name (`{{host}}`, `{{domains[www]}}`,
    /// `{{hosts[alt][www1]}}`; an IDN label written out before the host's
    /// token, in Unicode or punycode as `unicode` says).
    pub fn token(self, unicode: bool) -> String {
        match (self.sub, self.idn) {
            ("", _) => self.base_token().to_owned(),
            (_, true) => {
                let (u, a) = self.idn_pair();
                format!("{}.{}", if unicode { u } else { a }, self.base_token())
            }
            (sub, false) if self.alt => format!("{{{{hosts[alt][{sub}]}}}}"),
            (sub, false) => format!("{{{{domains[{sub}]}}}}"),
        }
    }

    /// Every host of WPT's list of the kind asked, in the order they are
    /// handed out.
    fn all(idn: bool) -> Vec<WptHost> {
        let mut out = Vec::new();
        for alt in [false, true] {
            if idn {
                for (u, _) in IDN_SUBS {
                    out.push(WptHost { alt, sub: u, idn });
                }
            } else {
                for sub in ASCII_SUBS {
                    out.push(WptHost { alt, sub, idn });
                }
            }
        }
        out
    }
}

/// A URL scheme whose ports WPT serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebScheme {
    /// `http`
    Http,
    /// `https`
    Https,
}

impl WebScheme {
    fn of(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "http" => Some(WebScheme::Http),
            "https" => Some(WebScheme::Https),
            _ => None,
        }
    }

    fn key(self) -> &'static str {
        match self {
            WebScheme::Http => "http",
            WebScheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            WebScheme::Http => 80,
            WebScheme::Https => 443,
        }
    }

    fn wpt_ports(self) -> [u16; 2] {
        match self {
            WebScheme::Http => HTTP_PORTS,
            WebScheme::Https => HTTPS_PORTS,
        }
    }
}

/// A piece of a mapped string.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Text kept as written.
    Text(String),
    /// A WPT host, spelled in Unicode or ASCII, maybe uppercased.
    Host {
        /// Which.
        host: WptHost,
        /// Its IDN label in Unicode.
        unicode: bool,
        /// Uppercased (the case wrote the name in capitals).
        upper: bool,
    },
    /// `:` and a WPT port.
    Port {
        /// Whose ports.
        scheme: WebScheme,
        /// Which of them.
        index: usize,
    },
}

/// A string of the case with its hosts and ports moved onto WPT's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spelled(pub Vec<Piece>);

impl Spelled {
    /// The text wptserve's substitution makes of it: what the browser sees.
    pub fn real(&self) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Host {
                    host,
                    unicode,
                    upper,
                } => {
                    let name = if *unicode {
                        host.unicode()
                    } else {
                        host.ascii()
                    };
                    out.push_str(&if *upper { name.to_uppercase() } else { name });
                }
                Piece::Port { scheme, index } => {
                    out.push_str(&format!(":{}", scheme.wpt_ports()[*index]))
                }
            }
        }
        out
    }

    /// A JavaScript expression for it in a `.sub.` file: string literals
    /// holding WPT's template tokens, an uppercased host as
    /// `"{{host}}".toUpperCase()`.
    pub fn js(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut current = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => current.push_str(t),
                Piece::Host {
                    host,
                    unicode,
                    upper: false,
                } => current.push_str(&host.token(*unicode)),
                Piece::Host {
                    host,
                    unicode,
                    upper: true,
                } => {
                    parts.push(super::js::string_literal(&std::mem::take(&mut current)));
                    parts.push(format!(
                        "{}.toUpperCase()",
                        super::js::string_literal(&host.token(*unicode))
                    ));
                }
                Piece::Port { scheme, index } => {
                    current.push_str(&format!(":{{{{ports[{}][{index}]}}}}", scheme.key()))
                }
            }
        }
        parts.push(super::js::string_literal(&current));
        let parts: Vec<String> = parts.into_iter().filter(|p| p != "\"\"").collect();
        if parts.is_empty() {
            "\"\"".to_owned()
        } else {
            parts.join(" + ")
        }
    }
}

/// Where a string sits in the case: a URL a window loads, or anything
/// else that names a host without loading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A window's or navigation's URL: its host must be one of WPT's.
    Loaded,
    /// A targetOrigin, a `document.domain` value, an argument.
    Named,
}

/// The mapping of one case's domains and ports onto WPT's.
#[derive(Debug, Clone, Default)]
pub struct HostMap {
    /// Canonical ASCII domain of the case, its WPT host, and whether a
    /// window loads it.
    domains: Vec<(String, WptHost, bool)>,
    /// (scheme, WPT host, the case's port) -> index into WPT's ports.
    ports: Vec<(WebScheme, WptHost, u16, usize)>,
}

/// The site of a domain as the model keys agents: its registrable domain
/// (the model's, [`pmconf_model::agent::registrable_domain`]), or the
/// domain itself when it has none.
fn site_of(domain: &str) -> String {
    pmconf_model::agent::registrable_domain(domain).unwrap_or_else(|| domain.to_owned())
}

fn canonical(domain: &str) -> Option<String> {
    pmconf_model::domain::domain_to_ascii(domain).ok()
}

fn is_host_char(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '/' | ':' | '?' | '#' | '@' | '[' | ']' | '\\' | '"' | '\'' | '<' | '>' | ','
        ))
}

impl HostMap {
    /// Maps the hosts of the windows `case` loads. The top window is the
    /// test page: it must be WPT's own origin (`{{host}}` and the first
    /// port of its scheme).
    pub fn for_case(case: &Case) -> Result<HostMap, Refusal> {
        let mut map = HostMap::default();
        let mut loaded: Vec<(WebScheme, String, u16, &str)> = Vec::new();
        let mut top_first = case.windows.iter().collect::<Vec<_>>();
        top_first.sort_by_key(|w| w.relation != Relation::Top);
        for w in top_first {
            let WindowContent::Url(u) = &w.content else {
                continue;
            };
            let Some(scheme) = WebScheme::of(u.scheme()) else {
                continue;
            };
            let written = w.url_as_written.as_deref().unwrap_or(u.as_str());
            let domain = match u.host() {
                Some(url::Host::Domain(d)) => d.to_owned(),
                _ => {
                    return Err(Refusal::new(
                        RefusalGroup::LoopbackLiteral,
                        format!(
                            "window `{}` loads {written}: WPT's servers are reached by name only",
                            w.name
                        ),
                    ))
                }
            };
            if w.relation == Relation::Top {
                let host_written = written.split("//").nth(1).unwrap_or("");
                if domain.contains("xn--") || !host_written.starts_with(domain.as_str()) {
                    return Err(Refusal::new(
                        RefusalGroup::TopWindow,
                        format!("the top window (the test page, served at WPT's own `{{{{host}}}}`) loads {written}: its host is not a plain lowercase name"),
                    ));
                }
            }
            let port = u.port_or_known_default().unwrap_or(scheme.default_port());
            loaded.push((scheme, domain, port, written));
        }
        for (scheme, domain, port, written) in loaded {
            let host = match map.host_of(&domain) {
                Some(h) => h,
                None => map.allocate(&domain, true)?,
            };
            if map.port_index(scheme, host, port).is_none() {
                let used = map
                    .ports
                    .iter()
                    .filter(|(s, h, _, _)| *s == scheme && *h == host)
                    .count();
                if used >= 2 {
                    return Err(Refusal::new(
                        RefusalGroup::Port,
                        format!(
                            "{written}: more than two {} ports on one host; WPT serves two",
                            scheme.key()
                        ),
                    ));
                }
                map.ports.push((scheme, host, port, used));
            }
        }
        Ok(map)
    }

    fn host_of(&self, domain: &str) -> Option<WptHost> {
        self.domains
            .iter()
            .find(|(d, _, _)| d == domain)
            .map(|(_, h, _)| *h)
    }

    fn port_index(&self, scheme: WebScheme, host: WptHost, port: u16) -> Option<usize> {
        self.ports
            .iter()
            .find(|(s, h, p, _)| *s == scheme && *h == host && *p == port)
            .map(|(_, _, _, i)| *i)
    }

    /// Gives `domain` a free WPT host of its kind (IDN or not), keeping
    /// the case's same-site relations with the domains mapped so far
    /// where WPT's two sites allow.
    fn allocate(&mut self, domain: &str, loaded: bool) -> Result<WptHost, Refusal> {
        let idn = domain.split('.').any(|l| l.starts_with("xn--"));
        if idn && !pmconf_model::domain::domain_to_ascii(domain).is_ok_and(|d| d == domain) {
            return Err(Refusal::new(
                RefusalGroup::HostBeyondWptList,
                format!("{domain} is not a valid IDN name"),
            ));
        }
        let site = site_of(domain);
        // A subdomain goes under its site's WPT host (mapped first), so
        // `document.domain` to the parent and same-site relations hold.
        let labels = domain.split('.').count();
        let parent = if labels == 3 && site != domain {
            Some(match self.host_of(&site) {
                Some(h) => h,
                None => self.allocate(&site, false)?,
            })
        } else {
            None
        };
        let free: Vec<WptHost> = WptHost::all(idn)
            .into_iter()
            .filter(|h| !self.domains.iter().any(|(_, m, _)| m == h))
            .filter(|h| match parent {
                Some(p) => h.alt == p.alt && !h.sub.is_empty() && p.sub.is_empty(),
                None => true,
            })
            .collect();
        let score = |h: &WptHost| {
            self.domains
                .iter()
                .filter(|(d, m, _)| (site_of(d) == site) == (m.alt == h.alt))
                .count()
        };
        let best = free
            .iter()
            .copied()
            .enumerate()
            .max_by_key(|(i, h)| (score(h), std::cmp::Reverse(*i)))
            .map(|(_, h)| h);
        let Some(host) = best else {
            return Err(Refusal::new(
                RefusalGroup::HostBeyondWptList,
                format!(
                    "{domain}: the case names more {} hosts than WPT's host list has",
                    if idn { "IDN" } else { "ASCII" }
                ),
            ));
        };
        self.domains.push((domain.to_owned(), host, loaded));
        Ok(host)
    }

    /// The case's domains and the WPT host each became, for the comment
    /// at the top of an exported test.
    pub fn describe(&self) -> Vec<String> {
        self.domains
            .iter()
            .map(|(d, h, loaded)| {
                let ports: Vec<String> = self
                    .ports
                    .iter()
                    .filter(|(_, m, _, _)| m == h)
                    .map(|(s, _, p, i)| format!("{}:{p} -> ports[{}][{i}]", s.key(), s.key()))
                    .collect();
                format!(
                    "{d} -> {}{}{}",
                    h.token(false),
                    if *loaded { "" } else { " (named only)" },
                    if ports.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", ports.join(", "))
                    }
                )
            })
            .collect()
    }

    /// Moves one string of the case onto WPT's hosts and ports.
    pub fn spell(&mut self, text: &str, role: Role) -> Result<Spelled, Refusal> {
        // The URL parser drops tabs and newlines anywhere: a host written
        // across them cannot be spelled with a WPT host's token.
        let stripped: String = text
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        if stripped != text && stripped.to_lowercase().contains(".test") {
            let authority = stripped.split("//").nth(1).unwrap_or("");
            let host_end = authority.find(['/', '?', '#']).unwrap_or(authority.len());
            let original_has = text.contains(&authority[..host_end]);
            if !original_has {
                return Err(Refusal::new(
                    RefusalGroup::HostBeyondWptList,
                    format!("{text:?}: the host is written across tabs or newlines, which a WPT host's token cannot be"),
                ));
            }
        }
        let mut pieces: Vec<Piece> = Vec::new();
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        let push_text = |pieces: &mut Vec<Piece>, t: &str| {
            if let Some(Piece::Text(last)) = pieces.last_mut() {
                last.push_str(t);
            } else if !t.is_empty() {
                pieces.push(Piece::Text(t.to_owned()));
            }
        };
        while i < chars.len() {
            let start = chars[i].0;
            if !is_host_char(chars[i].1) {
                push_text(&mut pieces, &chars[i].1.to_string());
                i += 1;
                continue;
            }
            let mut j = i;
            while j < chars.len() && is_host_char(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |c| c.0);
            let run = &text[start..end];
            let before = &text[..start];
            let after_scheme = before.ends_with("//")
                || before.ends_with('@') && before.contains("//")
                || before.ends_with("\\\\");
            if !after_scheme || !run.trim_end_matches('.').to_lowercase().ends_with(".test") {
                push_text(&mut pieces, run);
                i = j;
                continue;
            }
            // The scheme is what comes before the first `//`.
            let scheme_part = before.split("//").next().unwrap_or("");
            let scheme_part = scheme_part.strip_suffix(':').unwrap_or(scheme_part);
            let tail: String = scheme_part
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let scheme = WebScheme::of(&tail.chars().rev().collect::<String>());
            let host = self.spell_host(run, role, text)?;
            let host_piece = host.last().cloned();
            for p in host {
                match p {
                    Piece::Text(t) => push_text(&mut pieces, &t),
                    other => pieces.push(other),
                }
            }
            i = j;
            // The port after a mapped host, written or implicit.
            let Some(Piece::Host { host: wpt, .. }) = host_piece else {
                continue;
            };
            let Some(scheme) = scheme else {
                continue;
            };
            let written_port = if chars.get(i).map(|c| c.1) == Some(':') {
                let mut k = i + 1;
                while k < chars.len() && chars[k].1.is_ascii_digit() {
                    k += 1;
                }
                let digits: String = chars[i + 1..k].iter().map(|c| c.1).collect();
                Some((digits, k))
            } else {
                None
            };
            match written_port {
                Some((digits, k)) if !digits.is_empty() => {
                    let Ok(port) = digits.parse::<u16>() else {
                        // Not a port at all (over 65535): kept, so the
                        // URL stays invalid the same way.
                        continue;
                    };
                    if port == scheme.default_port() {
                        return Err(Refusal::new(
                            RefusalGroup::Port,
                            format!("{text:?} writes the default port {port}: WPT serves no default port"),
                        ));
                    }
                    match self.named_port(scheme, wpt, port, role, text)? {
                        Some(index) => pieces.push(Piece::Port { scheme, index }),
                        None => push_text(&mut pieces, &format!(":{digits}")),
                    }
                    i = k;
                }
                Some(_) => {}
                None => {
                    // An implicit default port: the same WPT port as the
                    // window loaded with it, if any.
                    if let Some(index) = self.port_index(scheme, wpt, scheme.default_port()) {
                        pieces.push(Piece::Port { scheme, index });
                    } else if role == Role::Loaded {
                        return Err(Refusal::new(
                            RefusalGroup::Port,
                            format!("{text:?}: no WPT port for its default port"),
                        ));
                    }
                }
            }
        }
        Ok(Spelled(pieces))
    }

    /// A bare domain (a `document.domain` value) moved onto WPT's hosts.
    pub fn spell_domain(&mut self, domain: &str) -> Result<Spelled, Refusal> {
        let mut spelled = self.spell(&format!("//{domain}"), Role::Named)?;
        match spelled.0.first_mut() {
            Some(Piece::Text(t)) if t == "//" => {
                spelled.0.remove(0);
            }
            Some(Piece::Text(t)) => {
                *t = t.trim_start_matches("//").to_owned();
            }
            _ => {}
        }
        Ok(spelled)
    }

    fn named_port(
        &mut self,
        scheme: WebScheme,
        host: WptHost,
        port: u16,
        role: Role,
        text: &str,
    ) -> Result<Option<usize>, Refusal> {
        if let Some(i) = self.port_index(scheme, host, port) {
            return Ok(Some(i));
        }
        let used = self
            .ports
            .iter()
            .filter(|(s, h, _, _)| *s == scheme && *h == host)
            .count();
        let wpt_valued = HTTP_PORTS.contains(&port) || HTTPS_PORTS.contains(&port);
        if role == Role::Named && !wpt_valued {
            // Never loaded: kept as written (it cannot equal a WPT port).
            return Ok(None);
        }
        if used >= 2 {
            return Err(Refusal::new(
                RefusalGroup::Port,
                format!("{text:?}: more than two {} ports on one host", scheme.key()),
            ));
        }
        self.ports.push((scheme, host, port, used));
        Ok(Some(used))
    }

    /// A run of host characters ending in `.test`: the longest suffix that
    /// is a domain of the case becomes its WPT host (spelling kept); the
    /// labels before it stay as written.
    fn spell_host(&mut self, run: &str, role: Role, text: &str) -> Result<Vec<Piece>, Refusal> {
        let refuse = |why: &str| {
            Refusal::new(
                RefusalGroup::HostBeyondWptList,
                format!("{text:?}: the host {run:?} {why}"),
            )
        };
        if run.contains('%') {
            return Err(refuse("is percent-encoded; no WPT host is spelled so"));
        }
        let (name, trailing_dot) = match run.strip_suffix('.') {
            Some(n) => (n, "."),
            None => (run, ""),
        };
        let labels: Vec<&str> = name.split('.').collect();
        // Longest suffix first: the whole name, then without its first
        // label, down to the registrable domain.
        for cut in 0..labels.len().saturating_sub(1) {
            let suffix = labels[cut..].join(".");
            let Some(ascii) = canonical(&suffix) else {
                continue;
            };
            let known = self.host_of(&ascii);
            let is_site = site_of(&ascii) == ascii;
            if known.is_none() && !is_site {
                continue;
            }
            if known.is_none() && role == Role::Loaded && cut > 0 {
                continue;
            }
            let host = match known {
                Some(h) => h,
                None => self.allocate(&ascii, role == Role::Loaded)?,
            };
            let spelling = if suffix == ascii {
                (false, false)
            } else if suffix == ascii.to_uppercase() {
                (false, true)
            } else if host.idn
                && pmconf_model::domain::domain_to_ascii(&suffix).is_ok_and(|a| a == ascii)
                && suffix == suffix.to_lowercase()
                && !suffix.chars().any(|c| "ßςǀ\u{200c}\u{200d}".contains(c))
            {
                (true, false)
            } else {
                return Err(refuse(&format!(
                    "is spelled {suffix:?}, which has no counterpart among WPT's hosts"
                )));
            };
            let mut out = Vec::new();
            if cut > 0 {
                out.push(Piece::Text(format!("{}.", labels[..cut].join("."))));
            }
            out.push(Piece::Host {
                host,
                unicode: spelling.0,
                upper: spelling.1,
            });
            if !trailing_dot.is_empty() {
                out.push(Piece::Text(trailing_dot.to_owned()));
            }
            return Ok(out);
        }
        Err(refuse("names no domain the case can map"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(yaml: &str) -> Case {
        pmconf_model::parse_case("t.yaml", yaml).unwrap()
    }

    const TWO: &str = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://b.test:8001/" }
steps:
  - post: { from: top, to: child, message: "m", target_origin: "http://b.test:8001" }
"#;

    /// Hand-derived: top is the test page at {{host}} and the first HTTP
    /// port; b.test is another site, so it goes to the alternate host
    /// (WPT's other site), on its first port too.
    #[test]
    fn top_is_wpt_own_origin_and_another_site_goes_to_the_alternate_host() {
        let c = case(TWO);
        let mut map = HostMap::for_case(&c).unwrap();
        let s = map.spell("http://b.test:8001", Role::Named).unwrap();
        assert_eq!(s.real(), "http://not-web-platform.test:8000");
        assert_eq!(s.js(), "\"http://{{hosts[alt][]}}:{{ports[http][0]}}\"");
        let s = map.spell("http://a.test:8000/", Role::Loaded).unwrap();
        assert_eq!(s.real(), "http://web-platform.test:8000/");
    }

    #[test]
    fn spellings_are_carried_or_refused() {
        let c = case(TWO);
        let mut map = HostMap::for_case(&c).unwrap();
        // All capitals: the uppercased WPT host.
        let s = map.spell("HTTP://B.TEST:8001", Role::Named).unwrap();
        assert_eq!(s.real(), "HTTP://NOT-WEB-PLATFORM.TEST:8000");
        assert!(
            s.js().contains("\"{{hosts[alt][]}}\".toUpperCase()"),
            "{}",
            s.js()
        );
        // An invalid label before a known domain stays as written; the
        // implicit port 80 is no port a window loads, so it stays implicit.
        let s = map.spell("http://xn--.a.test", Role::Named).unwrap();
        assert_eq!(s.real(), "http://xn--.web-platform.test");
        let s = map
            .spell("http://user:pass@b.test:8001/", Role::Named)
            .unwrap();
        assert_eq!(s.real(), "http://user:pass@not-web-platform.test:8000/");
        // A port nothing loads stays as written.
        let s = map.spell("http://b.test:8005", Role::Named).unwrap();
        assert_eq!(s.real(), "http://not-web-platform.test:8005");
        // Percent-encoding and mixed case have no WPT spelling.
        assert!(map.spell("http://%62.test:8001", Role::Named).is_err());
        assert!(map.spell("http://B.test:8001", Role::Named).is_err());
        // An explicit default port is the case's point: refused.
        let r = map.spell("http://b.test:80", Role::Named).unwrap_err();
        assert_eq!(r.group, RefusalGroup::Port);
    }

    #[test]
    fn idn_windows_take_wpt_idn_labels_and_loopback_is_refused() {
        let c = case(
            r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://bücher.test:8001/" }
steps:
  - post: { from: child, to: top, message: "m", target_origin: "*" }
"#,
        );
        let mut map = HostMap::for_case(&c).unwrap();
        let s = map.spell("http://bücher.test:8001/", Role::Loaded).unwrap();
        assert_eq!(s.real(), "http://élève.not-web-platform.test:8000/");
        assert_eq!(
            s.js(),
            "\"http://élève.{{hosts[alt][]}}:{{ports[http][0]}}/\""
        );
        let s = map
            .spell("http://xn--bcher-kva.test:8001", Role::Named)
            .unwrap();
        assert_eq!(s.real(), "http://xn--lve-6lad.not-web-platform.test:8000");
        let ip = case(
            r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://127.0.0.1:8001/" }
steps:
  - post: { from: child, to: top, message: "m", target_origin: "*" }
"#,
        );
        let r = HostMap::for_case(&ip).unwrap_err();
        assert_eq!(r.group, RefusalGroup::LoopbackLiteral);
    }
}
