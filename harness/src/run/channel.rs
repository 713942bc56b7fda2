//! The channel: one WebSocket per agent document and per runner page,
//! through which the harness sends tasks and pages send reports.
//!
//! A document connects when its agent starts (`/__pmconf/channel?token=
//! T&key=K&doc=D`) and says `hello` (it runs the agent: the readiness a
//! `wait: loaded` waits for); a runner page connects with `runner=R`.
//! The harness then *calls* a peer: it sends a frame with an `id` and
//! waits for the peer's `done` frame with the same `id` (a task's results,
//! a mount's slots), or for the peer's socket to close, or for a deadline.
//! Every other frame a page sends is a report, recorded as the HTTP
//! reports are ([`super::state::RunState`]).
//!
//! Only connections that carry the run's token are taken: a page left
//! over from another run (or anything else on the machine) is refused,
//! with a line on stderr saying so.

use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The path a page's channel connects to.
pub const CHANNEL_PATH: &str = "/__pmconf/channel";

/// Who is at the other end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerName {
    /// An agent document: its window's page key and its document label.
    Document {
        /// The window's page key (`<engine>/<case>.<mount>/<window>`).
        key: String,
        /// The document's label (`kid`, `kid@2`...).
        doc: String,
    },
    /// A runner page, by the id in its URL.
    Runner(String),
}

impl std::fmt::Display for PeerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerName::Document { key, doc } => write!(f, "document {doc} of {key}"),
            PeerName::Runner(id) => write!(f, "runner {id}"),
        }
    }
}

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Nobody by that name is connected.
    #[error("{0} is not connected to the channel")]
    NotConnected(PeerName),
    /// The peer's socket closed before it answered (its document went
    /// away, its browser crashed).
    #[error("the channel of {0} closed before it answered")]
    Closed(PeerName),
    /// No answer before the deadline.
    #[error("{0} did not answer within {1:?}")]
    TimedOut(PeerName, Duration),
}

/// One connection's way out, and its number.
#[derive(Clone)]
struct Peer {
    connection: u64,
    out: mpsc::UnboundedSender<String>,
}

/// A call waiting for its answer, and the connection it went to.
struct Pending {
    connection: u64,
    answer: oneshot::Sender<Result<Json, ()>>,
}

/// The connected peers and the calls waiting for answers.
#[derive(Default)]
pub struct Channels {
    peers: Mutex<HashMap<PeerName, Peer>>,
    /// Per window key, the document labels connected, latest last.
    latest: Mutex<HashMap<String, Vec<String>>>,
    pending: Mutex<HashMap<u64, Pending>>,
    next: AtomicU64,
    /// Each runner page's browser, as its `User-Agent` said.
    agents: Mutex<HashMap<String, String>>,
}

/// A connection, as the server's socket task holds it.
pub struct Connection {
    /// Its number.
    pub number: u64,
    /// Frames to send it.
    pub outgoing: mpsc::UnboundedReceiver<String>,
    out: mpsc::UnboundedSender<String>,
}

impl Channels {
    /// A new connection (named once it says who it is).
    pub fn connect(&self) -> Connection {
        let (out, outgoing) = mpsc::unbounded_channel();
        Connection {
            number: self.next.fetch_add(1, Ordering::SeqCst),
            outgoing,
            out,
        }
    }

    /// `connection` is `name` from now on, and nothing else (a document's
    /// `hello`; a reused document says it again under its new case's
    /// name).
    pub fn name(&self, connection: &Connection, name: PeerName) {
        self.forget_names(connection.number);
        if let PeerName::Document { key, doc } = &name {
            let mut latest = self.latest.lock().unwrap();
            let docs = latest.entry(key.clone()).or_default();
            docs.retain(|d| d != doc);
            docs.push(doc.clone());
        }
        self.peers.lock().unwrap().insert(
            name,
            Peer {
                connection: connection.number,
                out: connection.out.clone(),
            },
        );
    }

    /// The connection closed: its names are forgotten, and every call
    /// waiting on it fails.
    pub fn disconnect(&self, connection: u64) {
        self.forget_names(connection);
        let mut pending = self.pending.lock().unwrap();
        let failed: Vec<u64> = pending
            .iter()
            .filter(|(_, p)| p.connection == connection)
            .map(|(id, _)| *id)
            .collect();
        for id in failed {
            if let Some(p) = pending.remove(&id) {
                let _ = p.answer.send(Err(()));
            }
        }
    }

    /// Forgets every name `connection` had.
    fn forget_names(&self, connection: u64) {
        let mut gone = Vec::new();
        self.peers.lock().unwrap().retain(|name, p| {
            let keep = p.connection != connection;
            if !keep {
                gone.push(name.clone());
            }
            keep
        });
        let mut latest = self.latest.lock().unwrap();
        for name in gone {
            if let PeerName::Document { key, doc } = name {
                if let Some(docs) = latest.get_mut(&key) {
                    docs.retain(|d| *d != doc);
                }
            }
        }
    }

    /// A peer's `done` frame: the answer to call `id`.
    pub fn answer(&self, id: u64, results: Json) {
        if let Some(p) = self.pending.lock().unwrap().remove(&id) {
            let _ = p.answer.send(Ok(results));
        }
    }

    /// Whether `name` is connected.
    pub fn is_connected(&self, name: &PeerName) -> bool {
        self.peers.lock().unwrap().contains_key(name)
    }

    /// The label of the latest document of window `key` still connected.
    pub fn latest_document(&self, key: &str) -> Option<String> {
        self.latest.lock().unwrap().get(key)?.last().cloned()
    }

    /// Runner `id`'s browser is `user_agent`.
    pub fn set_agent(&self, id: &str, user_agent: &str) {
        self.agents
            .lock()
            .unwrap()
            .insert(id.to_owned(), user_agent.to_owned());
    }

    /// Runner `id`'s browser, as its `User-Agent` said.
    pub fn agent(&self, id: &str) -> Option<String> {
        self.agents.lock().unwrap().get(id).cloned()
    }

    /// The runner ids connected now.
    pub fn runners(&self) -> Vec<String> {
        self.peers
            .lock()
            .unwrap()
            .keys()
            .filter_map(|n| match n {
                PeerName::Runner(id) => Some(id.clone()),
                PeerName::Document { .. } => None,
            })
            .collect()
    }

    /// Sends `frame` to `to` without waiting for an answer; whether it
    /// was connected.
    pub fn tell(&self, to: &PeerName, frame: &Json) -> bool {
        let peer = self.peers.lock().unwrap().get(to).cloned();
        peer.is_some_and(|p| p.out.send(frame.to_string()).is_ok())
    }

    /// Sends `frame` (an object) to `to` with a fresh `id`, and waits for
    /// the `done` frame answering it.
    pub async fn call(
        &self,
        to: &PeerName,
        mut frame: Json,
        deadline: Duration,
    ) -> Result<Json, CallError> {
        let peer = self
            .peers
            .lock()
            .unwrap()
            .get(to)
            .cloned()
            .ok_or_else(|| CallError::NotConnected(to.clone()))?;
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        frame["id"] = Json::from(id);
        let (answer, answered) = oneshot::channel();
        self.pending.lock().unwrap().insert(
            id,
            Pending {
                connection: peer.connection,
                answer,
            },
        );
        if peer.out.send(frame.to_string()).is_err() {
            self.pending.lock().unwrap().remove(&id);
            return Err(CallError::Closed(to.clone()));
        }
        match tokio::time::timeout(deadline, answered).await {
            Ok(Ok(Ok(results))) => Ok(results),
            Ok(_) => Err(CallError::Closed(to.clone())),
            Err(_) => {
                self.pending.lock().unwrap().remove(&id);
                Err(CallError::TimedOut(to.clone(), deadline))
            }
        }
    }
}

/// Who a connection says it is from its URL's query (`key` and `doc`, or
/// `runner`), once its `token` is the run's; `Err` says why it is refused.
pub fn peer_of_query(query: &str, token: &str) -> Result<PeerName, String> {
    let mut fields: HashMap<String, String> = HashMap::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        fields.insert(decode_component(k), decode_component(v));
    }
    match fields.get("token") {
        Some(t) if t == token => {}
        Some(_) => return Err("its token is not this run's (a page of another run?)".into()),
        None => return Err("it carries no token".into()),
    }
    if let Some(runner) = fields.get("runner") {
        return Ok(PeerName::Runner(runner.clone()));
    }
    match (fields.get("key"), fields.get("doc")) {
        (Some(key), Some(doc)) => Ok(PeerName::Document {
            key: key.clone(),
            doc: doc.clone(),
        }),
        _ => Err("it names neither a runner nor a document (key and doc)".into()),
    }
}

/// Percent-decodes a query component (`+` stays: `encodeURIComponent`
/// never writes one for a space).
fn decode_component(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_taken_only_with_the_runs_token() {
        assert_eq!(
            peer_of_query("token=t1&key=chromium%2F3.1%2F0&doc=kid%402", "t1"),
            Ok(PeerName::Document {
                key: "chromium/3.1/0".into(),
                doc: "kid@2".into()
            })
        );
        assert_eq!(
            peer_of_query("runner=r7&token=t1", "t1"),
            Ok(PeerName::Runner("r7".into()))
        );
        assert!(peer_of_query("token=old&runner=r7", "t1")
            .unwrap_err()
            .contains("not this run's"));
        assert!(peer_of_query("runner=r7", "t1")
            .unwrap_err()
            .contains("no token"));
        assert!(peer_of_query("token=t1&key=k", "t1").is_err());
    }

    /// A query nobody's `encodeURIComponent` wrote is refused or taken
    /// as written, never a panic: `%` before something that is not two hex
    /// digits (here a two-byte character) stays, and so does `+`.
    #[test]
    fn a_malformed_escape_is_kept_as_written() {
        assert_eq!(
            peer_of_query("token=t1&key=a%x\u{e9}+b%2&doc=d", "t1"),
            Ok(PeerName::Document {
                key: "a%x\u{e9}+b%2".into(),
                doc: "d".into()
            })
        );
    }

    #[tokio::test]
    async fn a_call_is_answered_by_its_id_and_fails_when_its_peer_goes() {
        let channels = Channels::default();
        let mut c = channels.connect();
        let name = PeerName::Document {
            key: "k".into(),
            doc: "d".into(),
        };
        channels.name(&c, name.clone());
        assert_eq!(channels.latest_document("k").as_deref(), Some("d"));
        let call = channels.call(
            &name,
            serde_json::json!({"t": "task"}),
            Duration::from_secs(5),
        );
        let answer = async {
            let sent: Json = serde_json::from_str(&c.outgoing.recv().await.unwrap()).unwrap();
            assert_eq!(sent["t"], "task");
            channels.answer(sent["id"].as_u64().unwrap(), serde_json::json!([1]));
        };
        let (got, ()) = tokio::join!(call, answer);
        assert_eq!(got, Ok(serde_json::json!([1])));

        let call = channels.call(
            &name,
            serde_json::json!({"t": "task"}),
            Duration::from_secs(5),
        );
        let drop_it = async {
            c.outgoing.recv().await.unwrap();
            channels.disconnect(c.number);
        };
        let (got, ()) = tokio::join!(call, drop_it);
        assert_eq!(got, Err(CallError::Closed(name.clone())));
        assert!(!channels.is_connected(&name));
        assert_eq!(channels.latest_document("k"), None);
        assert_eq!(
            channels
                .call(&name, serde_json::json!({}), Duration::from_secs(1))
                .await,
            Err(CallError::NotConnected(name))
        );
    }

    #[test]
    fn a_reused_document_answers_to_its_new_name_only() {
        let channels = Channels::default();
        let c = channels.connect();
        let first = PeerName::Document {
            key: "e/1.0/0".into(),
            doc: "top".into(),
        };
        let second = PeerName::Document {
            key: "e/2.5/0".into(),
            doc: "t".into(),
        };
        channels.name(&c, first.clone());
        channels.name(&c, second.clone());
        assert!(!channels.is_connected(&first));
        assert!(channels.is_connected(&second));
        assert_eq!(channels.latest_document("e/1.0/0"), None);
        assert_eq!(channels.latest_document("e/2.5/0").as_deref(), Some("t"));
    }

    #[tokio::test]
    async fn an_unanswered_call_times_out() {
        let channels = Channels::default();
        let c = channels.connect();
        channels.name(&c, PeerName::Runner("r".into()));
        let got = channels
            .call(
                &PeerName::Runner("r".into()),
                serde_json::json!({}),
                Duration::from_millis(20),
            )
            .await;
        assert!(matches!(got, Err(CallError::TimedOut(..))), "{got:?}");
    }
}
