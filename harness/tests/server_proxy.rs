//! The origin server / forward proxy driven over real loopback sockets, the
//! way browsers configured with it as their proxy talk to it.

use std::sync::Arc;
use std::time::Duration;

use pmconf::server::{handler_fn, OriginServer, RejectedRequest, Request, Response};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Every network wait is bounded so a hung server fails instead of hanging.
const WAIT: Duration = Duration::from_secs(10);

/// Echoes what the server told the handler, one `key=value` per line.
async fn start() -> OriginServer {
    let handler = handler_fn(|req: Request| async move {
        if req.path() == "/panic" {
            panic!("deliberate test panic");
        }
        if req.path() == "/hang" {
            std::future::pending::<()>().await;
        }
        let body = format!(
            "scheme={}\nhost={}\nport={}\nmethod={}\npath={}\norigin={}\nbody={}\n",
            req.scheme,
            req.host,
            req.port,
            req.method,
            req.path_and_query,
            req.origin(),
            String::from_utf8_lossy(&req.body),
        );
        Response::text(200, "text/plain", body).with_header("x-echo", "1")
    });
    OriginServer::start(handler).await.expect("server starts")
}

async fn connect(server: &OriginServer) -> TcpStream {
    timeout(WAIT, TcpStream::connect(server.proxy_address()))
        .await
        .expect("connect timed out")
        .expect("connect")
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, raw: &str) {
    timeout(WAIT, stream.write_all(raw.as_bytes()))
        .await
        .expect("write timed out")
        .expect("write");
    timeout(WAIT, stream.flush())
        .await
        .expect("flush timed out")
        .expect("flush");
}

/// Reads one response head and, unless `head_only` (CONNECT), its
/// Content-Length body, byte by byte so nothing after it is consumed.
async fn read_reply<S: AsyncRead + Unpin>(stream: &mut S, head_only: bool) -> Reply {
    timeout(WAIT, read_reply_inner(stream, head_only))
        .await
        .expect("reading the response timed out")
}

async fn read_reply_inner<S: AsyncRead + Unpin>(stream: &mut S, head_only: bool) -> Reply {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.unwrap_or_else(|e| {
            panic!(
                "connection ended inside the head ({e}); got {:?}",
                String::from_utf8_lossy(&head)
            )
        });
        head.push(byte);
    }
    let head = String::from_utf8(head).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').expect("header line");
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let mut reply = Reply {
        status,
        headers,
        body: String::new(),
    };
    if !head_only {
        let len: usize = reply
            .header("content-length")
            .expect("response has Content-Length")
            .parse()
            .unwrap();
        let mut body = vec![0; len];
        stream.read_exact(&mut body).await.expect("body");
        reply.body = String::from_utf8(body).expect("UTF-8 body");
    }
    reply
}

/// Sends one request and reads its response on the same connection.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, raw: &str) -> Reply {
    send(stream, raw).await;
    read_reply(stream, false).await
}

/// Asserts the peer closes the connection (EOF or reset) within the wait.
async fn assert_closed<S: AsyncRead + Unpin>(stream: &mut S) {
    let mut buf = [0u8; 64];
    let read = timeout(WAIT, stream.read(&mut buf))
        .await
        .expect("connection was not closed");
    if let Ok(n) = read {
        assert_eq!(n, 0, "unexpected data {:?}", &buf[..n]);
    }
}

#[tokio::test]
async fn absolute_form_get_is_answered_for_the_named_origin() {
    let server = start().await;
    let mut conn = connect(&server).await;
    let reply = exchange(
        &mut conn,
        "GET http://b.test:8001/p?q HTTP/1.1\r\nHost: b.test:8001\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        "scheme=http\nhost=b.test\nport=8001\nmethod=GET\npath=/p?q\norigin=http://b.test:8001\nbody=\n"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("x-echo"), Some("1"));
    assert_eq!(reply.header("content-type"), Some("text/plain"));

    // Keep-alive: a second request on the same connection, another origin,
    // mixed-case host and the default port.
    let reply = exchange(
        &mut conn,
        "GET http://C.Test/ HTTP/1.1\r\nHost: C.Test\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .body
            .starts_with("scheme=http\nhost=c.test\nport=80\n"),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("origin=http://c.test\n"),
        "{}",
        reply.body
    );
    assert_eq!(server.requests_served(), 2);
    assert!(server.rejected().is_empty(), "{:?}", server.rejected());
    server.shutdown().await;
}

#[tokio::test]
async fn post_body_reaches_the_handler() {
    let server = start().await;
    let mut conn = connect(&server).await;
    let body = "{\"data\":\"héllo\"}";
    let raw = format!(
        "POST http://a.test:8002/submit HTTP/1.1\r\nHost: a.test:8002\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = exchange(&mut conn, &raw).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        format!(
            "scheme=http\nhost=a.test\nport=8002\nmethod=POST\npath=/submit\norigin=http://a.test:8002\nbody={body}\n"
        )
    );
    server.shutdown().await;
}

#[tokio::test]
async fn other_hosts_get_403_and_are_logged() {
    let server = start().await;
    let mut conn = connect(&server).await;
    let reply = exchange(
        &mut conn,
        "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 403);
    assert!(reply.body.contains("example.com"), "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let reply = exchange(
        &mut conn,
        "GET http://localhost:8001/x HTTP/1.1\r\nHost: localhost:8001\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 403);

    let rejected = server.rejected();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(
        (
            rejected[0].method.as_str(),
            rejected[0].host.as_str(),
            rejected[0].port
        ),
        ("GET", "example.com", 80)
    );
    assert_eq!(
        (
            rejected[1].method.as_str(),
            rejected[1].host.as_str(),
            rejected[1].port
        ),
        ("GET", "localhost", 8001)
    );
    assert!(!rejected[0].reason.is_empty());
    assert_eq!(server.requests_served(), 0);
    server.shutdown().await;
}

#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    // Signatures are still checked: the key must match the certificate.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Sends CONNECT, expects 200, then handshakes TLS (ALPN http/1.1) with `sni`.
async fn open_tunnel(
    server: &OriginServer,
    target: &str,
    sni: ServerName<'static>,
) -> TlsStream<TcpStream> {
    let mut conn = connect(server).await;
    send(
        &mut conn,
        &format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"),
    )
    .await;
    let reply = read_reply(&mut conn, true).await;
    assert_eq!(reply.status, 200, "CONNECT {target}: {reply:?}");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tls = timeout(
        WAIT,
        TlsConnector::from(Arc::new(config)).connect(sni, conn),
    )
    .await
    .expect("TLS handshake timed out")
    .expect("TLS handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    tls
}

/// The end-entity certificate the server presented.
fn peer_cert(tls: &TlsStream<TcpStream>) -> Vec<u8> {
    let certs = tls
        .get_ref()
        .1
        .peer_certificates()
        .expect("peer certificates");
    assert_eq!(certs.len(), 1);
    certs[0].to_vec()
}

/// True if the DER holds a GeneralName with this tag ([2] dNSName = 0x82,
/// [7] iPAddress = 0x87) and value.
fn has_general_name(der: &[u8], tag: u8, value: &[u8]) -> bool {
    let mut needle = vec![tag, value.len() as u8];
    needle.extend_from_slice(value);
    der.windows(needle.len()).any(|w| w == needle.as_slice())
}

#[tokio::test]
async fn connect_tunnel_serves_https_for_the_connect_target() {
    let server = start().await;
    let host = "xn--bcher-kva.test";
    let sni = ServerName::try_from(host).unwrap().to_owned();
    let mut tls = open_tunnel(&server, &format!("{host}:443"), sni).await;
    let cert = peer_cert(&tls);
    assert!(has_general_name(&cert, 0x82, host.as_bytes()));

    let reply = exchange(
        &mut tls,
        &format!("GET /x HTTP/1.1\r\nHost: {host}\r\n\r\n"),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        format!("scheme=https\nhost={host}\nport=443\nmethod=GET\npath=/x\norigin=https://{host}\nbody=\n")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    // Keep-alive inside the tunnel, and the tunnel target wins over Host.
    let reply = exchange(&mut tls, "GET /y?z HTTP/1.1\r\nHost: other.test\r\n\r\n").await;
    assert!(
        reply.body.starts_with(&format!(
            "scheme=https\nhost={host}\nport=443\nmethod=GET\npath=/y?z\n"
        )),
        "{}",
        reply.body
    );
    assert_eq!(server.requests_served(), 2);
    assert!(server.rejected().is_empty(), "{:?}", server.rejected());
    server.shutdown().await;
}

#[tokio::test]
async fn connect_to_loopback_ip_gets_ip_certificate_and_keeps_port() {
    let server = start().await;
    let sni = ServerName::try_from("127.0.0.1").unwrap().to_owned();
    let mut tls = open_tunnel(&server, "127.0.0.1:8443", sni).await;
    let cert = peer_cert(&tls);
    assert!(has_general_name(&cert, 0x87, &[127, 0, 0, 1]));

    let reply = exchange(&mut tls, "GET / HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n\r\n").await;
    assert!(
        reply
            .body
            .starts_with("scheme=https\nhost=127.0.0.1\nport=8443\n"),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("origin=https://127.0.0.1:8443\n"),
        "{}",
        reply.body
    );
    server.shutdown().await;
}

#[tokio::test]
async fn connect_to_other_hosts_gets_403_without_a_tunnel() {
    let server = start().await;
    let mut conn = connect(&server).await;
    let reply = exchange(
        &mut conn,
        "CONNECT www.google.com:443 HTTP/1.1\r\nHost: www.google.com:443\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 403);
    assert!(reply.body.contains("www.google.com"), "{}", reply.body);
    // Still plain HTTP on this connection: no tunnel was opened.
    let reply = exchange(
        &mut conn,
        "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        server.rejected(),
        vec![RejectedRequest {
            method: "CONNECT".into(),
            host: "www.google.com".into(),
            port: 443,
            reason: "not a .test name or loopback address".into(),
        }]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn direct_origin_form_request_uses_host_header() {
    let server = start().await;
    let mut conn = connect(&server).await;
    let host = server.proxy_address();
    let reply = exchange(
        &mut conn,
        &format!("GET /direct?a=b HTTP/1.1\r\nHost: {host}\r\n\r\n"),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        format!(
            "scheme=http\nhost=127.0.0.1\nport={}\nmethod=GET\npath=/direct?a=b\norigin=http://{host}\nbody=\n",
            server.port()
        )
    );
    server.shutdown().await;
}

#[tokio::test]
async fn request_without_host_is_a_logged_400() {
    let server = start().await;
    let mut conn = connect(&server).await;
    let reply = exchange(&mut conn, "GET /x HTTP/1.1\r\n\r\n").await;
    assert_eq!(reply.status, 400);
    let rejected = server.rejected();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!((rejected[0].host.as_str(), rejected[0].port), ("", 0));
    assert!(rejected[0].reason.contains("no host"), "{rejected:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn handler_panic_is_a_500_and_the_server_keeps_serving() {
    let server = start().await;
    let mut conn = connect(&server).await;
    let reply = exchange(
        &mut conn,
        "GET http://a.test/panic HTTP/1.1\r\nHost: a.test\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 500);
    assert!(
        reply.body.contains("deliberate test panic"),
        "{}",
        reply.body
    );
    // Same connection, then a fresh one.
    let reply = exchange(
        &mut conn,
        "GET http://a.test/ok HTTP/1.1\r\nHost: a.test\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 200);
    let mut conn = connect(&server).await;
    let reply = exchange(
        &mut conn,
        "GET http://a.test/ok HTTP/1.1\r\nHost: a.test\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_listener_and_open_connections() {
    let server = start().await;
    let address = server.proxy_address();
    let mut idle = connect(&server).await;
    let reply = exchange(
        &mut idle,
        "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 200);
    let sni = ServerName::try_from("a.test").unwrap().to_owned();
    let mut tunnel = open_tunnel(&server, "a.test:443", sni).await;
    let reply = exchange(&mut tunnel, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n").await;
    assert_eq!(reply.status, 200);

    timeout(WAIT, server.shutdown())
        .await
        .expect("shutdown timed out");
    assert_closed(&mut idle).await;
    assert_closed(&mut tunnel).await;
    let refused = timeout(WAIT, TcpStream::connect(&address))
        .await
        .expect("connect timed out");
    assert!(refused.is_err(), "listener still accepting after shutdown");
}

#[tokio::test]
async fn shutdown_aborts_requests_that_never_finish() {
    let server = start().await;
    let mut conn = connect(&server).await;
    send(
        &mut conn,
        "GET http://a.test/hang HTTP/1.1\r\nHost: a.test\r\n\r\n",
    )
    .await;
    // Let the request reach the handler before shutting down.
    for _ in 0..100 {
        if server.requests_served() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.requests_served(), 1);
    let started = std::time::Instant::now();
    timeout(WAIT, server.shutdown())
        .await
        .expect("shutdown waited for a request that never finishes");
    // The grace period is spent waiting for the in-flight request.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_closed(&mut conn).await;
}
