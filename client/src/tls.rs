//! TLS for `wss://` URLs: [`TlsOptions`] (which servers to trust) and the rustls connector built
//! from them (ring provider, SNI from the URL's host, ALPN `http/1.1`).
//!
//! No system or webpki roots are bundled: a client trusts exactly the CA certificates it is
//! given ([`TlsOptions::ca_certs`], e.g. from [`ClientConfig::with_ca_pem`]), so with none, every
//! server certificate is refused with [`ClientError::Tls`]. Load tests against a self-signed dev
//! server may instead set [`TlsOptions::danger_accept_invalid_certs`].
//!
//! [`ClientConfig::with_ca_pem`]: crate::ClientConfig::with_ca_pem

use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::ClientError;

/// Which `wss://` servers to trust. Ignored for `ws://` URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// CA (or self-signed leaf) certificates to trust, DER. Empty by default: no system roots
    /// are loaded, so add the ones you need.
    pub ca_certs: Vec<CertificateDer<'static>>,
    /// **For tests and load tests against dev servers only.** Accept any server certificate
    /// (self-signed, expired, for another name): the handshake signatures are still verified,
    /// so the session is encrypted, but the server is not authenticated and anyone on the path
    /// can impersonate it. Never set this against a server you do not run yourself.
    pub danger_accept_invalid_certs: bool,
}

impl TlsOptions {
    /// Parses every `CERTIFICATE` block of `pem` and adds it to [`Self::ca_certs`]. Fails when
    /// the PEM is malformed or holds no certificate.
    pub fn add_ca_pem(&mut self, pem: &[u8]) -> Result<(), ClientError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ClientError::CaCertificate(e.to_string()))?;
        if certs.is_empty() {
            return Err(ClientError::CaCertificate("no CERTIFICATE block in the PEM".to_owned()));
        }
        self.ca_certs.extend(certs);
        Ok(())
    }

    /// The rustls connector for these options.
    pub(crate) fn connector(&self) -> Result<TlsConnector, ClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(ClientError::Tls)?;
        let mut config = if self.danger_accept_invalid_certs {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            let mut roots = rustls::RootCertStore::empty();
            for cert in &self.ca_certs {
                roots.add(cert.clone()).map_err(|e| {
                    ClientError::CaCertificate(format!("unusable certificate: {e}"))
                })?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConnector::from(Arc::new(config)))
    }
}

/// Runs the TLS handshake over `tcp` with `host` as SNI and the name checked against the
/// certificate (an IP address is checked against the certificate's IP addresses). Public so
/// that tools reaching the same server over HTTPS (the bots' `/metrics` scraper) trust what the
/// game connection trusts.
pub async fn handshake(
    options: &TlsOptions,
    host: &str,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, ClientError> {
    let name = ServerName::try_from(host.to_owned()).map_err(|_| ClientError::InvalidUrl {
        url: host.to_owned(),
        why: "the host is not a valid TLS server name",
    })?;
    options.connector()?.connect(name, tcp).await.map_err(|e| {
        // tokio-rustls wraps rustls' own errors in io::Error; unwrap them to keep them typed.
        match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            Some(tls) => ClientError::Tls(tls.clone()),
            None => ClientError::Io(e),
        }
    })
}

/// The verifier behind [`TlsOptions::danger_accept_invalid_certs`]: any certificate chain is
/// accepted, the handshake signatures are verified with the provider's algorithms.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
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

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_pem_is_parsed_or_refused() {
        let mut options = TlsOptions::default();
        assert!(matches!(options.add_ca_pem(b"no pem here"), Err(ClientError::CaCertificate(_))));
        let bad = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(options.add_ca_pem(bad), Err(ClientError::CaCertificate(_))));
        assert!(options.ca_certs.is_empty());
        assert!(options.connector().is_ok(), "no roots is a valid (refuse-all) configuration");
        let insecure = TlsOptions { danger_accept_invalid_certs: true, ..TlsOptions::default() };
        assert!(insecure.connector().is_ok());
    }
}
