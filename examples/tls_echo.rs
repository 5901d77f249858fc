//! An echo server over `wss://`: tokio-rustls in front of the tokio adapter.
//!
//! ```text
//! cargo run --release -p rfc6455-integrations --example tls_echo [ADDR] [--cert CERT.pem --key KEY.pem]
//! ```
//!
//! Without `--cert` it makes a self-signed certificate for `localhost` and
//! 127.0.0.1 (with rcgen) and writes it to `tls_echo_cert.pem`, for a client
//! to trust: `rfc6455::tokio::Builder::tls_roots` with that certificate.
//! Default address 127.0.0.1:9443.

use std::sync::Arc;

use rfc6455::tokio::{Error, accept};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate chain and its key.
pub type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The certificate chain and key from PEM files.
pub fn identity_from_files(cert: &str, key: &str) -> Result<Identity, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{key}: {e}"))?;
    Ok((certs, key))
}

/// A self-signed certificate for `localhost` and 127.0.0.1, its key, and
/// the certificate as PEM.
pub fn self_signed() -> Result<(Identity, String), String> {
    let made = rcgen::generate_simple_self_signed(["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::try_from(made.signing_key.serialize_der()).map_err(|e| e.to_string())?;
    Ok(((vec![made.cert.der().clone()], key), made.cert.pem()))
}

/// The TLS acceptor for `identity`, with ring as the crypto provider.
pub fn acceptor(certs: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<TlsAcceptor, String> {
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| e.to_string())?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `listener`: TLS first, then the WebSocket echo.
pub async fn serve(listener: TcpListener, tls: TlsAcceptor) -> std::io::Result<()> {
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let tls = tls.clone();
        tokio::spawn(async move {
            let echo = async {
                // A client that never finishes TLS must not hold the task:
                // the engine's handshake timeout starts only after TLS.
                let handshake = tokio::time::timeout(std::time::Duration::from_secs(10), tls.accept(tcp));
                let stream = handshake.await.map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
                let mut ws = accept(stream).await?;
                while let Some(message) = ws.recv().await {
                    ws.send(message?).await?;
                }
                Ok::<_, Error>(())
            };
            if let Err(e) = echo.await {
                eprintln!("connection: {e}");
            }
        });
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut addr = "127.0.0.1:9443".to_string();
    let (mut cert, mut key) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cert" => cert = args.next(),
            "--key" => key = args.next(),
            _ => addr = arg,
        }
    }
    let (certs, private) = match cert.as_deref().zip(key.as_deref()) {
        Some((cert, key)) => identity_from_files(cert, key)?,
        None => {
            let (identity, pem) = self_signed()?;
            std::fs::write("tls_echo_cert.pem", pem).map_err(|e| e.to_string())?;
            println!("self-signed certificate written to tls_echo_cert.pem");
            identity
        }
    };
    let listener = TcpListener::bind(&addr).await.map_err(|e| e.to_string())?;
    println!("listening on wss://{}/", listener.local_addr().map_err(|e| e.to_string())?);
    serve(listener, acceptor(certs, private)?).await.map_err(|e| e.to_string())
}
