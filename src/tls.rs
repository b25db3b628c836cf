//! The TLS settings of a call (rustls, with ring), by trust choice: the Mozilla roots built in,
//! the operating system's verifier, or only the certificates of a PEM file.

use std::sync::Arc;

use rustls::client::ClientConfig;
use rustls::{RootCertStore, crypto::CryptoProvider};

use crate::error::Error;
use crate::transport::{TlsRoots, read_ca_file};

/// The settings for `roots`; a `ca_file` is read here.
pub(crate) fn client_config(roots: &TlsRoots) -> Result<Arc<ClientConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| Error::invalid_request(format!("TLS settings: {e}")))?;
    let config = match roots {
        TlsRoots::WebPki => {
            let store = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            builder.with_root_certificates(store).with_no_client_auth()
        }
        TlsRoots::System => {
            let verifier = platform_verifier(provider)?;
            builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()
        }
        TlsRoots::File(path) => {
            let mut store = RootCertStore::empty();
            let certs = read_ca_file(path)?;
            store.add_parsable_certificates(certs.iter().map(|c| rustls::pki_types::CertificateDer::from(c.der())));
            builder.with_root_certificates(store).with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// The operating system's certificate verifier (on Linux: the system's CA bundle, with
/// revocation where the platform offers it). Not dangerous despite the builder's name: it
/// verifies as the platform does.
fn platform_verifier(provider: Arc<CryptoProvider>) -> Result<Arc<rustls_platform_verifier::Verifier>, Error> {
    rustls_platform_verifier::Verifier::new(provider)
        .map(Arc::new)
        .map_err(|e| Error::invalid_request(format!("the system's certificate store cannot be used: {e}")))
}
