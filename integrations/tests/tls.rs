//! `wss://` over 127.0.0.1: `examples/tls_echo.rs` with a certificate made in
//! the test, the tokio adapter's `connect` trusting it, and the failures that
//! must be errors, not panics.

#[path = "../../examples/tls_echo.rs"]
#[allow(dead_code)]
mod tls_echo;

use rfc6455::tokio::rustls::RootCertStore;
use rfc6455::tokio::{Builder, Error, Message, connect};

/// A `wss://` echo server with a fresh self-signed certificate; its URL and
/// a root store that trusts it.
async fn server() -> (String, RootCertStore) {
    let ((certs, key), _pem) = tls_echo::self_signed().unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(certs[0].clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("wss://{}/", listener.local_addr().unwrap());
    tokio::spawn(tls_echo::serve(listener, tls_echo::acceptor(certs, key).unwrap()));
    (url, roots)
}

#[tokio::test]
async fn wss_echo_and_close_with_given_roots() {
    let (url, roots) = server().await;
    let mut ws = Builder::default().tls_roots(roots).unwrap().connect(&url).await.unwrap();
    assert!(matches!(ws.get_ref(), rfc6455::tokio::ClientStream::Tls(_)));
    ws.send("over TLS ✓").await.unwrap();
    ws.send(vec![1u8; 300_000]).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("over TLS ✓"));
    assert_eq!(ws.recv().await.unwrap().unwrap().len(), 300_000);
    let close = ws.close(1000, "done").await.unwrap();
    assert!(close.was_clean, "{close:?}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_an_error_not_a_panic() {
    let (url, _roots) = server().await;
    // The platform's roots do not know a certificate made a moment ago; a
    // machine without any roots fails earlier, as Error::Tls.
    match connect(&url).await {
        Err(Error::Io(e)) => assert!(e.to_string().contains("certificate"), "{e}"),
        Err(Error::Tls(e)) => assert!(e.to_string().contains("root"), "{e}"),
        other => panic!("{other:?}"),
    }
    // An empty root store trusts nothing.
    match Builder::default().tls_roots(RootCertStore::empty()).unwrap().connect(&url).await {
        Err(Error::Io(e)) => assert!(e.to_string().contains("certificate"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_plain_client_on_the_tls_port_fails_cleanly() {
    let (url, _roots) = server().await;
    let plain = url.replacen("wss://", "ws://", 1);
    assert!(connect(&plain).await.is_err());
}
