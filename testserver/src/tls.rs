//! HTTPS for tests of certificate verification: a self-signed certificate made at start-up,
//! kept in memory only.

use std::io;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// A certificate for 127.0.0.1 and localhost, signed by its own key.
pub struct SelfSigned {
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
    cert_pem: String,
}

impl SelfSigned {
    pub fn generate() -> io::Result<SelfSigned> {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .map_err(io::Error::other)?;
        Ok(SelfSigned {
            cert_der: certified.cert.der().clone(),
            key_der: certified.signing_key.serialize_der(),
            cert_pem: certified.cert.pem(),
        })
    }

    /// The certificate in PEM, for a client's CA file.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A TLS acceptor that presents this certificate.
    pub fn acceptor(&self) -> io::Result<TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], key)
            .map_err(io::Error::other)?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
