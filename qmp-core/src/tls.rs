//! TLS over TCP (or a UNIX socket), with rustls. Enabled by the `tls` cargo feature.

use crate::address::Address;
use crate::error::{Error, Result};
use crate::transport::Plain;
use rustls_pki_types::ServerName;
use std::sync::Arc;
use tokio_rustls::rustls::{ClientConfig, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// A TLS connection, as the client or (after `start_server_tls`) the server side.
pub(crate) type TlsStream = tokio_rustls::TlsStream<Plain>;

/// How to secure a connection: a rustls [`ClientConfig`] (trusted roots, client
/// certificate) and the name to verify the server's certificate against.
///
/// ```no_run
/// use qmp_core::{rustls, Client, TlsConfig};
/// use std::sync::Arc;
///
/// # async fn f(ca_pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// use rustls::pki_types::{pem::PemObject, CertificateDer};
///
/// let mut roots = rustls::RootCertStore::empty();
/// for cert in CertificateDer::pem_slice_iter(ca_pem) {
///     roots.add(cert?)?;
/// }
/// let config = rustls::ClientConfig::builder()
///     .with_root_certificates(roots)
///     .with_no_client_auth();
/// let client = Client::new("vm");
/// client.connect_tls(("127.0.0.1", 4444), TlsConfig::new(Arc::new(config))).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<ClientConfig>,
    server_name: Option<String>,
}

impl TlsConfig {
    /// TLS with this rustls configuration; the server name defaults to the TCP host.
    pub fn new(config: Arc<ClientConfig>) -> Self {
        TlsConfig {
            config,
            server_name: None,
        }
    }

    /// The name (DNS name or IP address) the server's certificate must carry; required
    /// over a UNIX socket, optional over TCP.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    pub(crate) async fn handshake(&self, plain: Plain, addr: &Address) -> Result<TlsStream> {
        self.handshake_named(plain, Some(addr)).await
    }

    pub(crate) async fn handshake_named(
        &self,
        plain: Plain,
        addr: Option<&Address>,
    ) -> Result<TlsStream> {
        let name = match (&self.server_name, addr) {
            (Some(n), _) => n.clone(),
            (None, Some(Address::Tcp { host, .. })) => host.clone(),
            (None, _) => {
                return Err(Error::Tls(
                    "a server name is required for TLS over a UNIX socket".into(),
                ))
            }
        };
        let name = ServerName::try_from(name.clone())
            .map_err(|e| Error::Tls(format!("invalid server name '{name}': {e}")))?;
        Ok(TlsConnector::from(self.config.clone())
            .connect(name, plain)
            .await?
            .into())
    }
}

/// The TLS server side, for [`Client::start_server_tls`](crate::Client::start_server_tls):
/// when QEMU connects to us (`-chardev socket,...,tls-creds=ID` with an
/// `endpoint=client` `tls-creds-x509` object), we are the TLS server.
#[derive(Clone)]
pub struct TlsServerConfig {
    config: Arc<ServerConfig>,
}

impl TlsServerConfig {
    /// TLS with this rustls server configuration (our certificate and key, and
    /// optionally how to verify QEMU's client certificate).
    pub fn new(config: Arc<ServerConfig>) -> Self {
        TlsServerConfig { config }
    }

    pub(crate) async fn handshake(&self, plain: Plain) -> Result<TlsStream> {
        Ok(TlsAcceptor::from(self.config.clone())
            .accept(plain)
            .await?
            .into())
    }
}

impl std::fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServerConfig").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}
