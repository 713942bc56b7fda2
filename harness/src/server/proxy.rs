//! One HTTP/1.1 connection: the plain one from the browser, or the decrypted
//! stream inside a CONNECT tunnel.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;

use super::panic::call_handler;
use super::prefixed::Prefixed;
use super::state::{stopped, Shared};
use super::{classify_host, parse_target, HostClass, RejectedRequest, Request, Response, Scheme};

/// Test pages post small messages; anything near this is a runaway client.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A browser that opens a tunnel and never handshakes should not pin a task.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

type HyperResponse = hyper::Response<Full<Bytes>>;

/// Where a tunnel leads, as parsed from its CONNECT target.
#[derive(Clone)]
struct Tunnel {
    host: String,
    port: u16,
    /// Whether TLS runs inside (https, wss) or plain HTTP (a `ws://`
    /// WebSocket a browser tunnels through its proxy).
    scheme: Scheme,
}

/// Serves HTTP/1.1 on `io` until the peer closes or shutdown is signalled
/// (then in-flight requests finish and idle keep-alive ends).
pub(crate) async fn serve_plain<I>(io: I, shared: Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve(io, shared, None).await;
}

async fn serve<I>(io: I, shared: Arc<Shared>, tunnel: Option<Tunnel>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shutdown = shared.shutdown_signal();
    if *shutdown.borrow() {
        return;
    }
    let svc_shared = shared.clone();
    let service = service_fn(move |req| {
        let shared = svc_shared.clone();
        let tunnel = tunnel.clone();
        async move { Ok::<_, Infallible>(dispatch(shared, tunnel, req).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        // Connection errors (resets, malformed requests) only concern that
        // one connection; hyper has already answered what it could.
        _ = conn.as_mut() => {}
        () = stopped(shutdown) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn dispatch(
    shared: Arc<Shared>,
    tunnel: Option<Tunnel>,
    req: hyper::Request<Incoming>,
) -> HyperResponse {
    let method = req.method().as_str().to_owned();
    let uri = req.uri().to_string();
    let host_header = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let target = match parse_target(
        &method,
        &uri,
        host_header,
        tunnel.as_ref().map(|t| (t.host.as_str(), t.port)),
    ) {
        Ok(mut target) => {
            if let Some(t) = &tunnel {
                target.scheme = t.scheme;
            }
            target
        }
        Err(e) => {
            shared.record_rejected(RejectedRequest {
                method,
                host: String::new(),
                port: 0,
                reason: format!("bad request target {uri:?}: {e}"),
            });
            return plain(StatusCode::BAD_REQUEST, format!("pmconf: {e}\n"));
        }
    };
    if let HostClass::Rejected(reason) = classify_host(&target.host) {
        let body = format!("pmconf: refusing {}: {reason}\n", target.host);
        shared.record_rejected(RejectedRequest {
            method,
            host: target.host,
            port: target.port,
            reason: reason.to_owned(),
        });
        return plain(StatusCode::FORBIDDEN, body);
    }
    if req.method() == Method::CONNECT {
        return open_tunnel(
            shared,
            Tunnel {
                host: target.host,
                port: target.port,
                scheme: Scheme::Https,
            },
            req,
        );
    }

    let headers = req
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    // A WebSocket's request has no body; the request itself is kept for
    // hyper's upgrade.
    let upgrade = super::websocket::is_upgrade(&req);
    let (upgrade_req, body) = if upgrade {
        (Some(req), Ok(Bytes::new()))
    } else {
        (
            None,
            Limited::new(req.into_body(), MAX_BODY)
                .collect()
                .await
                .map(|c| c.to_bytes()),
        )
    };
    let body = match body {
        Ok(bytes) => bytes,
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("pmconf: body over {MAX_BODY} bytes\n"),
            );
        }
        Err(e) => {
            return plain(
                StatusCode::BAD_REQUEST,
                format!("pmconf: reading body: {e}\n"),
            )
        }
    };
    let request = Request {
        scheme: target.scheme,
        host: target.host,
        port: target.port,
        method,
        path_and_query: target.path_and_query,
        headers,
        body,
    };
    if upgrade {
        return super::websocket::accept(shared, request, upgrade_req.expect("kept"));
    }
    shared.count_served();
    match call_handler(shared.handler.as_ref(), request).await {
        Ok(response) => into_hyper(response),
        Err(panic) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("pmconf: handler panicked: {panic}\n"),
        ),
    }
}

/// Answers the CONNECT and, once hyper hands over the raw stream, terminates
/// TLS on it and serves the requests inside as https to the tunnel target.
fn open_tunnel(
    shared: Arc<Shared>,
    tunnel: Tunnel,
    req: hyper::Request<Incoming>,
) -> HyperResponse {
    // Made before answering 200 so a failure is reported to the browser
    // instead of surfacing as a broken handshake.
    let config = match shared.certs.config_for(&tunnel.host) {
        Ok(config) => config,
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, format!("pmconf: {e}\n")),
    };
    let on_upgrade = hyper::upgrade::on(req);
    let task_shared = shared.clone();
    shared.spawn(Box::pin(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let sniffed = Prefixed::sniff(TokioIo::new(upgraded));
        let Ok(Ok(Some((stream, tls)))) = tokio::time::timeout(HANDSHAKE_TIMEOUT, sniffed).await
        else {
            return;
        };
        if !tls {
            let tunnel = Tunnel {
                scheme: Scheme::Http,
                ..tunnel
            };
            serve(stream, task_shared, Some(tunnel)).await;
            return;
        }
        let acceptor = TlsAcceptor::from(config);
        let handshake = acceptor.accept(stream);
        let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await else {
            return;
        };
        serve(stream, task_shared, Some(tunnel)).await;
    }));
    with_no_store(hyper::Response::new(Full::new(Bytes::new())))
}

/// Headers the server controls itself; see [`Response`].
fn is_server_controlled(name: &HeaderName) -> bool {
    [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::CONNECTION,
        header::UPGRADE,
        header::TE,
        header::TRAILER,
        header::CACHE_CONTROL,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

fn into_hyper(response: Response) -> HyperResponse {
    let status = match StatusCode::from_u16(response.status) {
        Ok(status) if status.as_u16() >= 200 => status,
        _ => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "pmconf: handler returned invalid status {}\n",
                    response.status
                ),
            )
        }
    };
    let mut out = hyper::Response::new(Full::new(Bytes::from(response.body)));
    *out.status_mut() = status;
    for (name, value) in response.headers {
        let parsed = HeaderName::from_bytes(name.as_bytes())
            .ok()
            .zip(HeaderValue::from_str(&value).ok());
        let Some((name, value)) = parsed else {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("pmconf: handler returned invalid header {name:?}: {value:?}\n"),
            );
        };
        if !is_server_controlled(&name) {
            out.headers_mut().append(name, value);
        }
    }
    with_no_store(out)
}

fn plain(status: StatusCode, body: String) -> HyperResponse {
    let mut out = hyper::Response::new(Full::new(Bytes::from(body)));
    *out.status_mut() = status;
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    with_no_store(out)
}

fn with_no_store(mut out: HyperResponse) -> HyperResponse {
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(out: &'a HyperResponse, name: &str) -> Vec<&'a str> {
        out.headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn handler_headers_pass_through_but_framing_and_caching_are_ours() {
        let response = Response::text(201, "text/html", "hi")
            .with_header("X-A", "1")
            .with_header("x-a", "2")
            .with_header("Content-Length", "999")
            .with_header("Cache-Control", "max-age=60")
            .with_header("Connection", "close");
        let out = into_hyper(response);
        assert_eq!(out.status(), StatusCode::CREATED);
        assert_eq!(header(&out, "x-a"), ["1", "2"]);
        assert_eq!(header(&out, "content-type"), ["text/html"]);
        assert_eq!(header(&out, "cache-control"), ["no-store"]);
        assert!(header(&out, "content-length").is_empty());
        assert!(header(&out, "connection").is_empty());
    }

    #[test]
    fn invalid_handler_output_becomes_500() {
        let out = into_hyper(Response::text(101, "text/plain", ""));
        assert_eq!(out.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let out = into_hyper(Response::text(1000, "text/plain", ""));
        assert_eq!(out.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let out = into_hyper(Response::not_found().with_header("bad name", "v"));
        assert_eq!(out.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let out = into_hyper(Response::not_found().with_header("x", "a\nb"));
        assert_eq!(out.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(header(&out, "cache-control"), ["no-store"]);
    }
}
