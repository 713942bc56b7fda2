//! What the server knows during a run: the planned cases (to render their
//! pages) and what each window reported (ready, received messages).

use super::pages::{runner_html, window_html, RUNNER_PATH};
use super::plan::{CasePlan, PAGE_PREFIX};
use crate::server::{Handler, Request, Response, WebSocket};
use pmconf_model::Delivery;
use serde::Deserialize;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// What one document has reported so far.
#[derive(Debug, Clone, Default)]
pub struct DocumentProgress {
    /// The agent ran (and created the window's children).
    pub ready: bool,
    /// `location.href` at ready time.
    pub href: Option<String>,
    /// The message events it received, in order, each reported as it
    /// fired.
    pub received: Vec<Delivery>,
    /// The agent's number for each of `received` (0, 1, 2... when no
    /// report was lost).
    pub seqs: Vec<u64>,
    /// The windows whose end-of-case marker it received.
    pub markers: Vec<String>,
    /// The most message events any marker report said came before it.
    pub messages_before_markers: u64,
    /// How many message events the document said it got, in the report
    /// it sent as it went away (`pagehide`); 0 until then.
    pub announced: u64,
    /// Whether that report (`bye`) arrived.
    pub gone: bool,
}

impl DocumentProgress {
    /// The messages received, in the order the agent numbered them (a
    /// report that came by the fallback path may arrive late), or, when a
    /// number is missing, the numbers that did arrive: a report was lost,
    /// which is not the same as a message that never came.
    pub fn received_in_order(&self) -> Result<Vec<Delivery>, Vec<u64>> {
        if (self.received.len() as u64) < self.announced {
            let mut got = self.seqs.clone();
            got.sort_unstable();
            return Err(got);
        }
        let mut numbered: Vec<(u64, &Delivery)> =
            self.seqs.iter().copied().zip(&self.received).collect();
        numbered.sort_by_key(|(n, _)| *n);
        if numbered
            .iter()
            .enumerate()
            .any(|(i, (n, _))| *n != i as u64)
        {
            return Err(numbered.iter().map(|(n, _)| *n).collect());
        }
        Ok(numbered.into_iter().map(|(_, d)| d.clone()).collect())
    }
}

/// What one window's documents have reported so far.
#[derive(Debug, Clone, Default)]
pub struct WindowProgress {
    /// Per document label, in the order they first reported.
    pub documents: Vec<(String, DocumentProgress)>,
    /// A failure the agent reported (a popup blocked...).
    pub failure: Option<String>,
    /// The results of each `run` call its documents made: the step
    /// indices and what each step returned.
    pub step_results: Vec<(Vec<usize>, serde_json::Value)>,
}

impl WindowProgress {
    /// The documents whose agent ran, each with its `location.href`: what
    /// a window that never loaded the expected document did instead
    /// (stayed on an earlier one, or loaded none).
    pub fn documents_that_ran(&self) -> String {
        let ran: Vec<String> = self
            .documents
            .iter()
            .filter(|(_, d)| d.ready)
            .map(|(label, d)| format!("{label} ({})", d.href.as_deref().unwrap_or("?")))
            .collect();
        if ran.is_empty() {
            "no document of it ran the agent".to_owned()
        } else {
            format!("documents of it that ran the agent: {}", ran.join(", "))
        }
    }

    /// The progress of the document labelled `label`.
    pub fn document(&self, label: &str) -> DocumentProgress {
        self.documents
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    }

    fn document_mut(&mut self, label: &str) -> &mut DocumentProgress {
        if let Some(i) = self.documents.iter().position(|(l, _)| l == label) {
            return &mut self.documents[i].1;
        }
        self.documents
            .push((label.to_owned(), DocumentProgress::default()));
        &mut self.documents.last_mut().expect("just pushed").1
    }
}

/// Shared run state; the server's [`Handler`].
#[derive(Default)]
pub struct RunState {
    plans: Mutex<HashMap<(String, usize), Arc<CasePlan>>>,
    progress: Mutex<HashMap<String, WindowProgress>>,
    marker_prefix: String,
    changed: Notify,
    mounts: std::sync::atomic::AtomicUsize,
    bad_reports: Mutex<Vec<String>>,
    /// Message events reused windows dropped as an earlier case's.
    late: std::sync::atomic::AtomicUsize,
    /// Page paths served so far, and how often.
    served: Mutex<HashMap<String, usize>>,
    /// Per window key, the documents the next re-fetches of its page are
    /// (reload steps the driver is about to run), oldest first.
    reloads: Mutex<HashMap<String, Vec<usize>>>,
    /// What `pmconf bench --profile` counts.
    pub profile: super::profile::Profile,
    /// The token a page's channel must carry (pages of this run only).
    token: String,
    /// The pages' WebSockets.
    pub channels: super::channel::Channels,
    /// Each document's last report (`bye`), as it arrived: its label and
    /// how many message events it said it got (at most 10,000 kept).
    byes: Mutex<Vec<(String, u64)>>,
    /// Other pages served at fixed paths (`pmconf serve`'s PAC file), with
    /// their content type.
    fixed: Mutex<HashMap<String, (String, String)>>,
}

impl RunState {
    /// A new state whose marker messages start with `marker_prefix`.
    pub fn new(marker_prefix: String) -> Arc<Self> {
        Arc::new(RunState {
            marker_prefix,
            token: fresh_token(),
            ..RunState::default()
        })
    }

    /// What every page of this run is told: the marker prefix and the
    /// channel's token.
    pub fn page_run(&self) -> PageRun<'_> {
        PageRun {
            marker_prefix: &self.marker_prefix,
            token: &self.token,
        }
    }

    /// The token a page's channel must carry.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The `bye` reports received so far, oldest first: each document's
    /// label and the message events it said it got.
    pub fn byes(&self) -> Vec<(String, u64)> {
        self.byes.lock().unwrap().clone()
    }

    /// Serves `body` as `content_type` at `path`, on every host.
    pub fn serve_fixed(&self, path: &str, content_type: &str, body: String) {
        self.fixed
            .lock()
            .unwrap()
            .insert(path.to_owned(), (content_type.to_owned(), body));
    }

    /// Makes a case's pages servable for `engine`.
    pub fn register(&self, engine: &str, plan: Arc<CasePlan>) {
        self.plans
            .lock()
            .unwrap()
            .insert((engine.to_owned(), plan.id), plan);
    }

    /// A number no earlier mount had: part of every page key, so a page
    /// left over from an earlier attempt at a case (a report still in
    /// flight) can never count for a later one.
    pub fn next_mount(&self) -> usize {
        self.mounts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    /// Forgets a case (after it ran), so state does not grow with the run.
    pub fn forget(&self, engine: &str, plan: &CasePlan) {
        self.plans
            .lock()
            .unwrap()
            .remove(&(engine.to_owned(), plan.id));
        let prefix = format!("{engine}/{}.", plan.id);
        self.progress
            .lock()
            .unwrap()
            .retain(|k, _| !k.starts_with(&prefix));
        self.reloads
            .lock()
            .unwrap()
            .retain(|k, _| !k.starts_with(&prefix));
        let page_prefix = format!("{PAGE_PREFIX}{prefix}");
        self.served
            .lock()
            .unwrap()
            .retain(|k, _| !k.starts_with(&page_prefix));
    }

    /// The driver is about to run a reload step of the window with page
    /// key `key`: the next time its page is fetched again, it is document
    /// `document` of the case.
    pub fn expect_reload(&self, key: &str, document: usize) {
        self.reloads
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default()
            .push(document);
    }

    /// The progress of the window with this page key.
    pub fn progress(&self, key: &str) -> WindowProgress {
        self.progress
            .lock()
            .unwrap()
            .get(key)
            .cloned()
            .unwrap_or_default()
    }

    /// The string every end-of-case (and epoch) marker message starts with.
    pub fn marker_prefix(&self) -> &str {
        &self.marker_prefix
    }

    /// How many message events reused windows dropped because their sender
    /// posted them for an earlier case (`kind: late` reports).
    pub fn late_events(&self) -> usize {
        self.late.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Reports that could not be understood (for diagnosis).
    pub fn bad_reports(&self) -> Vec<String> {
        self.bad_reports.lock().unwrap().clone()
    }

    /// Waits until `done` holds or `deadline` passes; returns whether it
    /// holds. Wakes on every report, never polls on a timer.
    pub async fn wait_until(
        &self,
        deadline: tokio::time::Instant,
        mut done: impl FnMut(&Self) -> bool,
    ) -> bool {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return done(self);
            }
        }
    }

    /// The plan a window page's path belongs to.
    fn page_plan(&self, path: &str) -> Option<Arc<CasePlan>> {
        let mut parts = path.strip_prefix(PAGE_PREFIX)?.split('/');
        let engine = parts.next()?;
        let case: usize = parts.next()?.split('.').next()?.parse().ok()?;
        let plans = self.plans.lock().unwrap();
        plans.get(&(engine.to_owned(), case)).cloned()
    }

    fn window_page(&self, path: &str) -> Option<String> {
        // /__pmconf/w/<engine>/<case>.<mount>/<window>[/<step>]
        let rest = path.strip_prefix(PAGE_PREFIX)?;
        let mut parts = rest.split('/');
        let engine = parts.next()?;
        let case_and_mount = parts.next()?;
        let case: usize = case_and_mount.split('.').next()?.parse().ok()?;
        let window: usize = parts.next()?.parse().ok()?;
        let step: Option<usize> = match parts.next() {
            Some(s) => Some(s.parse().ok()?),
            None => None,
        };
        let plan = self
            .plans
            .lock()
            .unwrap()
            .get(&(engine.to_owned(), case))
            .cloned()?;
        if window >= plan.case.windows.len() {
            return None;
        }
        let key_prefix = format!("{engine}/{case_and_mount}");
        let times = {
            let mut served = self.served.lock().unwrap();
            let n = served.entry(path.to_owned()).or_default();
            *n += 1;
            *n
        };
        let first = match step {
            Some(i) => plan.documents.loads.get(i).copied().flatten()?,
            None => plan.first_document(window),
        };
        let document = if times == 1 {
            first
        } else {
            // Fetched again: a reload the driver announced, if any.
            let key = format!("{key_prefix}/{window}");
            let mut reloads = self.reloads.lock().unwrap();
            match reloads.get_mut(&key).filter(|r| !r.is_empty()) {
                Some(r) => r.remove(0),
                None => first,
            }
        };
        if plan.documents.documents.get(document)?.window != window {
            return None;
        }
        let config = plan.document_config(document, &key_prefix, &self.page_run());
        self.profile.page_load(engine);
        Some(window_html(&config))
    }

    fn record_event(&self, body: &[u8]) {
        let parsed: Result<serde_json::Value, _> = serde_json::from_slice(body);
        let Ok(event) = parsed else {
            self.bad_reports
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(body).into_owned());
            return;
        };
        self.record_report(&event);
    }

    /// Records one report a page sent (on its channel, or by HTTP).
    pub fn record_report(&self, event: &serde_json::Value) {
        if event["kind"] == "bye" {
            self.record_bye(event);
            return;
        }
        let key = event["key"].as_str().unwrap_or_default().to_owned();
        // Page keys start with the engine's name.
        self.profile
            .report(key.split('/').next().unwrap_or_default());
        if event["kind"] == "late" {
            // An earlier case's message, which no case's progress may see.
            self.late.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return;
        }
        let doc = event["doc"].as_str().unwrap_or_default().to_owned();
        if let (Some(why), true) = (
            event["fallback"].as_str(),
            std::env::var_os("PMCONF_TRACE").is_some(),
        ) {
            eprintln!("pmconf trace: a report came by the fallback path ({why}): {event}");
        }
        let mut progress = self.progress.lock().unwrap();
        let entry = progress.entry(key).or_default();
        match event["kind"].as_str() {
            Some("ready") => {
                let d = entry.document_mut(&doc);
                d.ready = true;
                d.href = event["href"].as_str().map(str::to_owned);
            }
            Some("message") => {
                match Delivery::deserialize(&event["delivery"]) {
                    Ok(delivery) => {
                        let d = entry.document_mut(&doc);
                        let seq = event["seq"].as_u64().unwrap_or(u64::MAX);
                        // A report the channel carried comes again in the
                        // document's `bye`: counted once.
                        if !d.seqs.contains(&seq) {
                            d.received.push(delivery);
                            d.seqs.push(seq);
                        }
                    }
                    Err(e) => entry.failure = Some(format!("unreadable message report: {e}")),
                }
            }
            Some("marker") => {
                let from = event["from"].as_str().unwrap_or("?").to_owned();
                let d = entry.document_mut(&doc);
                d.markers.push(from);
                let seen = event["seen"].as_u64().unwrap_or(0);
                d.messages_before_markers = d.messages_before_markers.max(seen);
            }
            Some("failure") => {
                entry.failure = Some(event["reason"].as_str().unwrap_or("?").to_owned())
            }
            Some("steps") => {
                let indices = serde_json::from_value(event["indices"].clone()).unwrap_or_default();
                entry.step_results.push((indices, event["results"].clone()));
            }
            _ => self.bad_reports.lock().unwrap().push(event.to_string()),
        }
        drop(progress);
        self.changed.notify_waiters();
    }

    /// A document's last report, sent as it went away: how many message
    /// events each document it reported for got, and those reports again
    /// (the channel may have closed before they left).
    fn record_bye(&self, event: &serde_json::Value) {
        for r in event["reports"].as_array().into_iter().flatten() {
            self.record_report(r);
        }
        let mut progress = self.progress.lock().unwrap();
        for count in event["counts"].as_array().into_iter().flatten() {
            let (Some(key), Some(doc), Some(n)) =
                (count[0].as_str(), count[1].as_str(), count[2].as_u64())
            else {
                continue;
            };
            let d = progress
                .entry(key.to_owned())
                .or_default()
                .document_mut(doc);
            d.announced = d.announced.max(n);
        }
        if let (Some(key), Some(doc)) = (event["key"].as_str(), event["doc"].as_str()) {
            let d = progress
                .entry(key.to_owned())
                .or_default()
                .document_mut(doc);
            // It comes twice (on the channel, and by a keepalive request).
            let first = !d.gone;
            d.gone = true;
            let mut byes = self.byes.lock().unwrap();
            if first && byes.len() < 10_000 {
                byes.push((doc.to_owned(), d.announced));
            }
        }
        drop(progress);
        self.changed.notify_waiters();
    }

    /// A document said `hello` on its channel: it runs the agent.
    fn document_ready(&self, key: &str, doc: &str, href: Option<&str>) {
        self.profile
            .report(key.split('/').next().unwrap_or_default());
        let mut progress = self.progress.lock().unwrap();
        let d = progress
            .entry(key.to_owned())
            .or_default()
            .document_mut(doc);
        d.ready = true;
        d.href = href.map(str::to_owned);
        drop(progress);
        self.changed.notify_waiters();
    }

    /// One frame from a page's channel.
    fn on_frame(&self, connection: &super::channel::Connection, text: &str) {
        let Ok(frame) = serde_json::from_str::<serde_json::Value>(text) else {
            self.bad_reports.lock().unwrap().push(text.to_owned());
            return;
        };
        match frame["t"].as_str() {
            Some("hello") => {
                let (Some(key), Some(doc)) = (frame["key"].as_str(), frame["doc"].as_str()) else {
                    self.bad_reports.lock().unwrap().push(text.to_owned());
                    return;
                };
                self.channels.name(
                    connection,
                    super::channel::PeerName::Document {
                        key: key.to_owned(),
                        doc: doc.to_owned(),
                    },
                );
                self.document_ready(key, doc, frame["href"].as_str());
            }
            Some("done") => match frame["id"].as_u64() {
                Some(id) => self.channels.answer(id, frame["results"].clone()),
                None => self.bad_reports.lock().unwrap().push(text.to_owned()),
            },
            Some("report") => self.record_report(&frame),
            _ => self.bad_reports.lock().unwrap().push(text.to_owned()),
        }
    }

    /// Serves one page's channel until it closes.
    async fn serve_channel(&self, peer: super::channel::PeerName, socket: WebSocket) {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        let mut connection = self.channels.connect();
        // A runner is named by its URL; a document by its `hello`.
        if let super::channel::PeerName::Runner(_) = &peer {
            self.channels.name(&connection, peer);
            self.changed.notify_waiters();
        }
        let (mut sink, mut stream) = socket.split();
        loop {
            tokio::select! {
                out = connection.outgoing.recv() => match out {
                    Some(text) => {
                        if sink.send(Message::text(text)).await.is_err() {
                            break;
                        }
                    }
                    None => break,
                },
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => self.on_frame(&connection, text.as_str()),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        self.channels.disconnect(connection.number);
        self.changed.notify_waiters();
    }

    fn respond(&self, req: Request) -> Response {
        let path = req.path().to_owned();
        if req.method == "POST" && path == "/__pmconf/event" {
            self.record_event(&req.body);
            return Response::text(204, "text/plain", Vec::new())
                .with_header("access-control-allow-origin", "*");
        }
        if let Some((content_type, body)) = self.fixed.lock().unwrap().get(&path).cloned() {
            return Response::text(200, &content_type, body);
        }
        if req.method == "GET" && path == RUNNER_PATH {
            return Response::text(200, "text/html; charset=utf-8", runner_html());
        }
        if req.method == "GET" {
            if let Some(html) = self.window_page(&path) {
                let mut response = Response::text(200, "text/html; charset=utf-8", html);
                if self.page_plan(&path).is_some_and(|p| p.case.is_isolated()) {
                    for (name, value) in super::pages::ISOLATION_HEADERS {
                        response = response.with_header(name, value);
                    }
                }
                return response;
            }
        }
        Response::not_found()
    }
}

impl Handler for RunState {
    fn handle(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async move { self.respond(req) })
    }

    fn accepts_websocket(&self, req: &Request) -> Result<(), String> {
        let refused = |why: String| {
            eprintln!(
                "pmconf: refused a channel connection to {}{}: {why}",
                req.origin(),
                req.path()
            );
            Err(why)
        };
        if req.path() != super::channel::CHANNEL_PATH {
            return refused(format!(
                "WebSockets go to {} only",
                super::channel::CHANNEL_PATH
            ));
        }
        match super::channel::peer_of_query(req.query().unwrap_or(""), &self.token) {
            Ok(_) => Ok(()),
            Err(why) => refused(why),
        }
    }

    fn websocket(
        &self,
        req: Request,
        socket: WebSocket,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if let Ok(peer) = super::channel::peer_of_query(req.query().unwrap_or(""), &self.token)
            {
                if let (super::channel::PeerName::Runner(id), Some(ua)) =
                    (&peer, req.header("user-agent"))
                {
                    self.channels.set_agent(id, ua);
                }
                self.serve_channel(peer, socket).await;
            }
        })
    }
}

/// What every page of a run is told, whatever its case.
#[derive(Debug, Clone, Copy)]
pub struct PageRun<'a> {
    /// The string every end-of-case (and epoch) marker message starts
    /// with.
    pub marker_prefix: &'a str,
    /// The token its channel must carry.
    pub token: &'a str,
}

/// A token no other run has: 128 bits from the operating system's
/// random source (the process id and the time where it cannot be read).
fn fresh_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos ^ (u128::from(std::process::id()) << 64)).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_files::LoadedCase;
    use crate::server::Scheme;

    fn plan() -> Arc<CasePlan> {
        let case = pmconf_model::parse_case(
            "t.yaml",
            "description: t\nwindows:\n  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://b.test/\" }\nsteps:\n  - post: { from: top, to: kid, message: 1, target_origin: \"*\" }\n",
        )
        .unwrap();
        Arc::new(CasePlan::new(
            3,
            0,
            &LoadedCase {
                path: "t.yaml".into(),
                name: "t.yaml".into(),
                case,
            },
        ))
    }

    fn request(method: &str, path: &str, body: &str) -> Request {
        Request {
            scheme: Scheme::Http,
            host: "b.test".into(),
            port: 80,
            method: method.into(),
            path_and_query: path.into(),
            headers: vec![],
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn serves_registered_pages_with_their_mount_key() {
        let state = RunState::new("m:".into());
        state.register("chromium", plan());
        let page = state.respond(request("GET", "/__pmconf/w/chromium/3.7/1", ""));
        assert_eq!(page.status, 200);
        let html = String::from_utf8(page.body).unwrap();
        assert!(html.contains("\"key\":\"chromium/3.7/1\""), "{html}");
        assert!(html.contains("\"name\":\"kid\""));
        assert_eq!(
            state
                .respond(request("GET", "/__pmconf/w/chromium/4.7/1", ""))
                .status,
            404,
            "unregistered case"
        );
        assert_eq!(
            state
                .respond(request("GET", "/__pmconf/w/chromium/3.7/9", ""))
                .status,
            404,
            "no such window"
        );
        assert_eq!(
            state.respond(request("GET", "/favicon.ico", "")).status,
            404
        );
        assert_eq!(
            state.respond(request("GET", "/__pmconf/runner", "")).status,
            200
        );
    }

    #[test]
    fn counts_page_loads_and_reports_per_engine_for_the_profile() {
        let state = RunState::new("m:".into());
        state.register("chromium", plan());
        state.register("firefox", plan());
        for _ in 0..2 {
            state.respond(request("GET", "/__pmconf/w/chromium/3.7/1", ""));
        }
        state.respond(request("GET", "/__pmconf/w/firefox/3.7/0", ""));
        // Not pages: nothing served, or the runner.
        state.respond(request("GET", "/__pmconf/w/chromium/3.7/9", ""));
        state.respond(request("GET", "/__pmconf/runner", ""));
        state.respond(request(
            "POST",
            "/__pmconf/event",
            r#"{"key":"firefox/3.7/0","doc":"top","kind":"ready"}"#,
        ));
        let chromium = state.profile.counts_of("chromium");
        let firefox = state.profile.counts_of("firefox");
        assert_eq!((chromium.page_loads, chromium.reports), (2, 0));
        assert_eq!((firefox.page_loads, firefox.reports), (1, 1));
    }

    #[test]
    fn a_window_says_which_of_its_documents_ran() {
        let state = RunState::new("m:".into());
        state.register("firefox", plan());
        assert_eq!(
            state.progress("firefox/3.1/1").documents_that_ran(),
            "no document of it ran the agent"
        );
        for (doc, href) in [("kid", "http://b.test/"), ("kid@2", "http://c.test/")] {
            state.respond(request(
                "POST",
                "/__pmconf/event",
                &format!(
                    r#"{{"key":"firefox/3.1/1","doc":"{doc}","kind":"ready","href":"{href}"}}"#
                ),
            ));
        }
        assert_eq!(
            state.progress("firefox/3.1/1").documents_that_ran(),
            "documents of it that ran the agent: kid (http://b.test/), kid@2 (http://c.test/)"
        );
    }

    #[test]
    fn records_events_and_forgets_them() {
        let state = RunState::new("m:".into());
        let p = plan();
        state.register("firefox", p.clone());
        let ready = state.respond(request(
            "POST",
            "/__pmconf/event",
            r#"{"key":"firefox/3.1/0","doc":"top","kind":"ready","href":"http://a.test/x"}"#,
        ));
        assert_eq!(ready.status, 204);
        state.respond(request(
            "POST",
            "/__pmconf/event",
            r#"{"key":"firefox/3.1/1","doc":"kid","kind":"message","seq":0,"delivery":{"message":1,"origin":"http://a.test","source":"top"}}"#,
        ));
        state.respond(request(
            "POST",
            "/__pmconf/event",
            r#"{"key":"firefox/3.1/1","doc":"kid","kind":"marker","from":"top"}"#,
        ));
        // The same report twice (a fallback copy) counts once.
        state.respond(request(
            "POST",
            "/__pmconf/event",
            r#"{"key":"firefox/3.1/1","doc":"kid","kind":"message","seq":0,"delivery":{"message":1,"origin":"http://a.test","source":"top"}}"#,
        ));
        state.respond(request("POST", "/__pmconf/event", "not json"));
        let top = state.progress("firefox/3.1/0").document("top");
        assert!(top.ready);
        assert_eq!(top.href.as_deref(), Some("http://a.test/x"));
        let kid = state.progress("firefox/3.1/1").document("kid");
        assert_eq!(kid.received[0].origin, "http://a.test");
        assert_eq!(kid.seqs, [0]);
        assert_eq!(kid.markers, ["top"]);
        assert!(
            !state.progress("firefox/3.2/0").document("top").ready,
            "another mount of the same case is a different key"
        );
        assert_eq!(state.bad_reports(), ["not json"]);
        state.forget("firefox", &p);
        assert!(!state.progress("firefox/3.1/0").document("top").ready);
        assert_eq!(
            state
                .respond(request("GET", "/__pmconf/w/firefox/3.1/0", ""))
                .status,
            404
        );
    }

    #[test]
    fn messages_are_put_in_report_order_and_a_gap_is_a_lost_report() {
        let delivery = |m: i64| Delivery {
            message: serde_json::json!(m),
            origin: "http://a.test".into(),
            source: None,
            ports: Vec::new(),
        };
        let late = DocumentProgress {
            received: vec![delivery(1), delivery(0)],
            seqs: vec![1, 0],
            ..DocumentProgress::default()
        };
        assert_eq!(late.received_in_order(), Ok(vec![delivery(0), delivery(1)]));
        let lost = DocumentProgress {
            received: vec![delivery(1)],
            seqs: vec![1],
            ..DocumentProgress::default()
        };
        assert_eq!(lost.received_in_order(), Err(vec![1]));
    }

    #[test]
    fn a_late_event_is_counted_and_reaches_no_case() {
        let state = RunState::new("m:".into());
        state.register("webkitgtk", plan());
        state.respond(request(
            "POST",
            "/__pmconf/event",
            r#"{"key":"webkitgtk/3.1/0","doc":"top","kind":"late"}"#,
        ));
        assert_eq!(state.late_events(), 1);
        assert!(state.progress("webkitgtk/3.1/0").documents.is_empty());
        assert!(state.bad_reports().is_empty());
    }

    #[test]
    fn mounts_are_numbered_apart() {
        let state = RunState::new("m:".into());
        assert_ne!(state.next_mount(), state.next_mount());
    }
}
