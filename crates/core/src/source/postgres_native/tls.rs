//! TLS for the native PostgreSQL path, with libpq's `sslmode` semantics.
//!
//! | mode          | what happens                                                            |
//! |---------------|-------------------------------------------------------------------------|
//! | `disable`     | plaintext only                                                          |
//! | `allow`       | plaintext first; TLS (unverified) only if the server refuses plaintext  |
//! | `prefer`      | (the default) TLS (unverified) if the server offers it, else plaintext  |
//! | `require`     | TLS or nothing; the certificate is checked against the CA file when one |
//! |               | exists (libpq does the same, for backwards compatibility)               |
//! | `verify-ca`   | TLS, the server certificate must chain to the CA file                   |
//! | `verify-full` | `verify-ca`, and the certificate must name the host connected to        |
//!
//! The CA file is, as for libpq: `sslrootcert` (from `extra_options`), else the file named by
//! `PGSSLROOTCERT`, else `~/.postgresql/root.crt`. Client certificates are not supported.
//!
//! The TLS stack is rustls with the ring provider: no OpenSSL needed at build or run time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error as TlsError, RootCertStore,
    SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use config_schema::worker::PgSslMode;

/// libpq's `sslmode` as the native TLS code acts on it. The spelling is the worker
/// configuration's [`PgSslMode`] (one parser, one list of names); this type adds what the
/// native path needs on top: libpq's default when `ssl_mode` is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    Disable,
    Allow,
    /// libpq's default.
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl From<PgSslMode> for SslMode {
    fn from(mode: PgSslMode) -> SslMode {
        match mode {
            PgSslMode::Disable => SslMode::Disable,
            PgSslMode::Allow => SslMode::Allow,
            PgSslMode::Prefer => SslMode::Prefer,
            PgSslMode::Require => SslMode::Require,
            PgSslMode::VerifyCa => SslMode::VerifyCa,
            PgSslMode::VerifyFull => SslMode::VerifyFull,
        }
    }
}

impl From<SslMode> for PgSslMode {
    fn from(mode: SslMode) -> PgSslMode {
        match mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Allow => PgSslMode::Allow,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require => PgSslMode::Require,
            SslMode::VerifyCa => PgSslMode::VerifyCa,
            SslMode::VerifyFull => PgSslMode::VerifyFull,
        }
    }
}

impl SslMode {
    /// The mode named `text`, as the worker configuration reads it ([`PgSslMode::parse`]).
    pub fn parse(text: &str) -> Option<SslMode> {
        PgSslMode::parse(text.trim()).map(SslMode::from)
    }

    /// libpq's spelling, for messages.
    pub fn as_str(&self) -> &'static str {
        PgSslMode::from(*self).as_str()
    }
}

/// How the native session is protected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PgTls {
    pub mode: SslMode,
    /// The CA certificates (PEM) that verify the server; `None`: `PGSSLROOTCERT`, else
    /// `~/.postgresql/root.crt` if it exists.
    pub root_cert: Option<PathBuf>,
}

impl PgTls {
    /// Fails, naming what is missing, when the mode verifies certificates but no CA file can be
    /// found (so a worker refuses to start instead of failing every task).
    pub fn check(&self) -> Result<(), String> {
        plan(self, default_root_cert()).map(|_| ())
    }
}

/// What the connection attempt does, decided from the mode and the CA file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TlsPlan {
    /// `disable`.
    Plain,
    /// `allow`: plaintext, then unverified TLS if the server demands encryption.
    PlainThenTls,
    /// `prefer`: unverified TLS if the server offers it, else plaintext.
    TlsThenPlain,
    /// `require` and `verify-*`: TLS or fail.
    Tls(Verification),
}

/// How the server certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verification {
    /// Encryption only (libpq `require` without a CA file).
    None,
    /// The chain must end at a certificate of the CA file; any host name.
    Chain(PathBuf),
    /// The chain, and the certificate must name the host.
    ChainAndHost(PathBuf),
}

/// The CA file libpq would use when `sslrootcert` is not given: `PGSSLROOTCERT`, else
/// `~/.postgresql/root.crt` if it exists.
pub(super) fn default_root_cert() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PGSSLROOTCERT").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    let path = Path::new(&home).join(".postgresql").join("root.crt");
    path.is_file().then_some(path)
}

/// Decides the connection attempt. `default_root` is [`default_root_cert`] (a parameter, so the
/// decision is pure). Fails when a verifying mode has no CA file.
pub(super) fn plan(tls: &PgTls, default_root: Option<PathBuf>) -> Result<TlsPlan, String> {
    let root = tls.root_cert.clone().or(default_root);
    Ok(match tls.mode {
        SslMode::Disable => TlsPlan::Plain,
        SslMode::Allow => TlsPlan::PlainThenTls,
        SslMode::Prefer => TlsPlan::TlsThenPlain,
        SslMode::Require => TlsPlan::Tls(match root {
            Some(path) => Verification::Chain(path),
            None => Verification::None,
        }),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let Some(path) = root else {
                return Err(format!(
                    "`ssl_mode = \"{}\"` needs the CA certificate that signed the server's certificate: set `extra_options.sslrootcert` to its PEM file, or PGSSLROOTCERT, or put it at ~/.postgresql/root.crt",
                    tls.mode.as_str()
                ));
            };
            TlsPlan::Tls(if tls.mode == SslMode::VerifyFull {
                Verification::ChainAndHost(path)
            } else {
                Verification::Chain(path)
            })
        }
    })
}

/// The rustls connector for one verification rule.
pub(super) fn connector(verification: &Verification) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match verification {
        Verification::None => Arc::new(EncryptionOnly { provider }),
        Verification::Chain(path) => Arc::new(AnyHostName {
            inner: webpki_verifier(path, provider)?,
        }),
        Verification::ChainAndHost(path) => webpki_verifier(path, provider)?,
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn webpki_verifier(
    path: &Path,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, String> {
    let mut roots = RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(path).map_err(|e| {
        format!(
            "cannot read the CA certificate file `{}`: {e}",
            path.display()
        )
    })?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| {
            format!(
                "the CA certificate file `{}` is not valid PEM: {e}",
                path.display()
            )
        })?;
        roots.add(certificate).map_err(|e| {
            format!(
                "the CA certificate file `{}` holds an unusable certificate: {e}",
                path.display()
            )
        })?;
    }
    if roots.is_empty() {
        return Err(format!(
            "the CA certificate file `{}` holds no certificate",
            path.display()
        ));
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| {
            format!(
                "cannot use the CA certificates of `{}`: {e}",
                path.display()
            )
        })
}

/// libpq's `require` without a CA file and `prefer`: the session is encrypted, the server's
/// identity is not checked. The handshake signatures are still verified (the server must hold
/// the key of the certificate it shows).
#[derive(Debug)]
struct EncryptionOnly {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for EncryptionOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `verify-ca`: the whole chain is checked, only a host-name mismatch is accepted.
#[derive(Debug)]
struct AnyHostName {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(mode: SslMode, root: Option<&str>) -> PgTls {
        PgTls {
            mode,
            root_cert: root.map(PathBuf::from),
        }
    }

    #[test]
    fn modes_parse_as_libpq_spells_them() {
        for name in PgSslMode::ALL.map(PgSslMode::as_str) {
            assert_eq!(SslMode::parse(name).map(|m| m.as_str()), Some(name));
        }
        assert_eq!(SslMode::parse("verify_full"), None);
        assert_eq!(SslMode::default(), SslMode::Prefer, "libpq's default");
    }

    #[test]
    fn plans_follow_libpq() {
        let none = || None::<PathBuf>;
        assert_eq!(
            plan(&tls(SslMode::Disable, None), none()),
            Ok(TlsPlan::Plain)
        );
        assert_eq!(
            plan(&tls(SslMode::Allow, None), none()),
            Ok(TlsPlan::PlainThenTls)
        );
        assert_eq!(
            plan(&tls(SslMode::Prefer, Some("/ca.pem")), none()),
            Ok(TlsPlan::TlsThenPlain),
            "prefer never verifies"
        );
        assert_eq!(
            plan(&tls(SslMode::Require, None), none()),
            Ok(TlsPlan::Tls(Verification::None))
        );
        assert_eq!(
            plan(&tls(SslMode::Require, None), Some("/home/root.crt".into())),
            Ok(TlsPlan::Tls(Verification::Chain("/home/root.crt".into()))),
            "require with a CA file behaves like verify-ca"
        );
        assert_eq!(
            plan(&tls(SslMode::VerifyCa, Some("/ca.pem")), Some("/x".into())),
            Ok(TlsPlan::Tls(Verification::Chain("/ca.pem".into()))),
            "sslrootcert wins over the default file"
        );
        assert_eq!(
            plan(&tls(SslMode::VerifyFull, Some("/ca.pem")), none()),
            Ok(TlsPlan::Tls(Verification::ChainAndHost("/ca.pem".into())))
        );
        let err = plan(&tls(SslMode::VerifyFull, None), none()).expect_err("no CA");
        assert!(err.contains("sslrootcert"), "{err}");
        assert!(err.contains("verify-full"), "{err}");
    }

    #[test]
    fn unreadable_ca_files_are_named() {
        let err = connector(&Verification::ChainAndHost("/nonexistent/ca.pem".into()))
            .err()
            .expect("no such file");
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
        assert!(connector(&Verification::None).is_ok());
    }
}
