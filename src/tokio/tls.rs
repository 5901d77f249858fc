//! `wss://` for [`connect`](super::connect) (feature `rustls`): TLS over the
//! TCP stream through tokio-rustls.
//!
//! The crypto provider is the process default if the application installed
//! one, else ring (built in). The panicking `ClientConfig::builder()` is never
//! called, so two providers in one build do not abort the process; what
//! cannot be set up is [`Error::Tls`].

use std::boxed::Box;
use std::string::ToString;
use std::sync::Arc;

use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::crypto::{self, CryptoProvider};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use super::Error;
use ::tokio::net::TcpStream;

/// The provider: the application's, or ring.
fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default().cloned().unwrap_or_else(|| Arc::new(crypto::ring::default_provider()))
}

/// A client configuration trusting `roots`.
pub(super) fn config_with_roots(roots: RootCertStore) -> Result<Arc<ClientConfig>, Error> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(Box::new(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The platform's root certificates (those that load; none is an error).
pub(super) fn platform_config() -> Result<Arc<ClientConfig>, Error> {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        let why = found.errors.first().map_or_else(|| "none found".to_string(), ToString::to_string);
        return Err(Error::Tls(std::format!("no platform root certificates: {why}").into()));
    }
    config_with_roots(roots)
}

/// The TLS handshake with `host` over `tcp`.
pub(super) async fn handshake(
    config: Arc<ClientConfig>,
    host: &str,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, Error> {
    let name = ServerName::try_from(host.to_string()).map_err(|e| Error::Tls(Box::new(e)))?;
    Ok(TlsConnector::from(config).connect(name, tcp).await?)
}
