//! WebSocket connections a page opens to the server (RFC 6455's opening
//! handshake, then the stream handed to the [`Handler`]): how pages and
//! the harness talk without WebDriver and without synchronous requests.
//!
//! The server only upgrades: whether a connection is wanted is the
//! handler's decision ([`Handler::accepts_websocket`]); a refused one gets a
//! 403 and a line in the rejected-request log, like any refused request.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::StatusCode;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use super::state::Shared;
use super::{RejectedRequest, Request};

/// A page's WebSocket, upgraded and ready for frames.
pub type WebSocket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// A message a page sends on its channel is a case's report: small, but a
/// message report may carry a large structured-clone value.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Whether `req` asks to become a WebSocket (`GET` with `Upgrade:
/// websocket`, `Connection: upgrade` and a key).
pub(crate) fn is_upgrade(req: &hyper::Request<Incoming>) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    req.method() == hyper::Method::GET
        && has(header::UPGRADE, "websocket")
        && has(header::CONNECTION, "upgrade")
        && req.headers().contains_key(header::SEC_WEBSOCKET_KEY)
}

/// Answers an upgrade request: `101 Switching Protocols` and the
/// connection handed to the handler once hyper releases it, or `403` when
/// the handler does not want it.
pub(crate) fn accept(
    shared: Arc<Shared>,
    request: Request,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    if let Err(reason) = shared.handler.accepts_websocket(&request) {
        shared.record_rejected(RejectedRequest {
            method: "GET (WebSocket)".to_owned(),
            host: request.host.clone(),
            port: request.port,
            reason: reason.clone(),
        });
        let mut out = hyper::Response::new(Full::new(Bytes::from(format!(
            "pmconf: refusing this WebSocket: {reason}\n"
        ))));
        *out.status_mut() = StatusCode::FORBIDDEN;
        return out;
    }
    let key = req
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()))
        .unwrap_or_default();
    let on_upgrade = hyper::upgrade::on(req);
    let handler = shared.handler.clone();
    shared.spawn(Box::pin(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        handler.websocket(request, socket).await;
    }));
    let mut out = hyper::Response::new(Full::new(Bytes::new()));
    *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = out.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(value) = HeaderValue::from_str(&key) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6455 section 1.3's worked example.
    #[test]
    fn the_accept_key_is_the_rfc_example() {
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
