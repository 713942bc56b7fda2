//! Local origin server that is also the browsers' forward proxy.
//!
//! Browsers are pointed at one listener as their HTTP and HTTPS proxy, so it
//! sees every request for every origin a test case names: absolute-form
//! requests for http, `CONNECT` tunnels for https (TLS is terminated here
//! with a certificate made for the tunnelled host), and plain origin-form
//! requests made straight to it. Requests for `*.test` names and loopback
//! literals go to a [`Handler`]; everything else (browsers' own background
//! traffic) is refused and logged. The server never connects anywhere.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

mod host;
mod listen;
mod origin;
mod panic;
mod prefixed;
mod proxy;
mod state;
mod target;
mod tls;
mod websocket;

pub use host::{classify_host, HostClass};
pub use listen::{Listen, ListenError};
pub use origin::OriginServer;
pub use target::{parse_target, Target, TargetError};
pub use websocket::WebSocket;

/// The scheme a request was made with, as the page's origin would show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain http: absolute-form through the proxy, or a direct request.
    Http,
    /// https: a request that arrived inside a CONNECT tunnel.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port an origin of this scheme omits from its serialization.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request as the handler sees it: which origin it was for, not how it
/// reached the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Scheme of the origin the browser addressed.
    pub scheme: Scheme,
    /// Lowercase ASCII host as the browser sent it (punycode for IDN, a
    /// trailing dot kept); IPv6 in brackets, e.g. `"[::1]"`.
    pub host: String,
    /// Effective port (80/443 when the browser omitted it).
    pub port: u16,
    /// Method as sent, e.g. `"GET"`, `"POST"`.
    pub method: String,
    /// Origin-form path and query, e.g. `"/__pmconf/page?x=1"`.
    pub path_and_query: String,
    /// Header fields in arrival order, names lowercased; a value that is not
    /// UTF-8 is decoded lossily.
    pub headers: Vec<(String, String)>,
    /// The whole request body.
    pub body: bytes::Bytes,
}

impl Request {
    /// The origin serialized the way a browser shows it in `event.origin`:
    /// the port is left out when it is the scheme's default.
    pub fn origin(&self) -> String {
        if self.port == self.scheme.default_port() {
            format!("{}://{}", self.scheme, self.host)
        } else {
            format!("{}://{}:{}", self.scheme, self.host, self.port)
        }
    }

    /// The first value of a header; `name` must be lowercase.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query string.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path)
    }

    /// The query string without its `?`, if there is one.
    pub fn query(&self) -> Option<&str> {
        self.path_and_query.split_once('?').map(|(_, q)| q)
    }
}

/// What the handler answers.
///
/// The server always adds `Cache-Control: no-store` (replacing any the
/// handler set), so one case's resources can never be served from a cache to
/// the next. Framing and hop-by-hop headers (`Content-Length`,
/// `Transfer-Encoding`, `Connection`, ...) are dropped because hyper derives
/// them from the body and the connection. A status outside 200..=999 or an
/// invalid header becomes a 500 naming the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Header fields to send, in order.
    pub headers: Vec<(String, String)>,
    /// The whole response body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with one `Content-Type` header and the given body.
    pub fn text(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body: body.into(),
        }
    }

    /// `404` with a short plain-text body.
    pub fn not_found() -> Self {
        Response::text(404, "text/plain; charset=utf-8", "not found\n")
    }

    /// Adds a header, for building responses in one expression.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Answers requests for allowed hosts.
///
/// The future may borrow the handler, so handlers can keep state behind
/// `&self` without cloning it per request.
pub trait Handler: Send + Sync + 'static {
    /// Produces the response for one request. A panic here (or while the
    /// future runs) is caught and answered with a 500.
    fn handle(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;

    /// Whether to take the WebSocket `req` asks for (a `GET` with
    /// `Upgrade: websocket`; its body is empty): `Err` says why not, and
    /// the server answers `403`. Default: no WebSockets.
    fn accepts_websocket(&self, req: &Request) -> Result<(), String> {
        let _ = req;
        Err("this server takes no WebSockets".to_owned())
    }

    /// Serves a WebSocket [`accepts_websocket`](Self::accepts_websocket)
    /// took, until it closes. Default: closes it.
    fn websocket(
        &self,
        req: Request,
        socket: WebSocket,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let _ = (req, socket);
        Box::pin(async {})
    }
}

/// A [`Handler`] made from an async closure; see [`handler_fn`].
pub struct FnHandler<F>(F);

impl<F, Fut> Handler for FnHandler<F>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    fn handle(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin((self.0)(req))
    }
}

/// Wraps a closure returning a future as a handler, mostly for tests and
/// small tools that do not need a named handler type.
pub fn handler_fn<F, Fut>(f: F) -> Arc<dyn Handler>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    Arc::new(FnHandler(f))
}

/// A request the server refused, kept so a run can report which hosts the
/// browsers tried to reach (and so a case that names a disallowed host shows
/// up as such rather than as a mysterious load failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRequest {
    /// Request method (`CONNECT` for refused tunnels).
    pub method: String,
    /// Host as parsed from the request, empty if none could be parsed.
    pub host: String,
    /// Port as parsed from the request, 0 if none could be parsed.
    pub port: u16,
    /// Why it was refused.
    pub reason: String,
}

/// Failures starting the server.
#[derive(thiserror::Error, Debug)]
pub enum ServerError {
    /// Binding or inspecting the loopback listener failed.
    #[error("binding the local server on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    /// Binding the address `--listen` named failed.
    #[error("binding the local server on {addr} (--listen): {source}")]
    BindOn {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS provider or a certificate could not be set up.
    #[error("TLS setup: {0}")]
    Tls(String),
}
