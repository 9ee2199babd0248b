//! TLS against QEMU's `tls-creds-x509`, with certificates this test generates.
#![cfg(feature = "tls")]

mod common;

use common::*;
use qmp_core::rustls::{self, pki_types::CertificateDer};
use qmp_core::{Client, ConnectPhase, Error, RawCommand, RunState, TlsConfig};
use std::sync::Arc;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

struct Pki {
    ca_der: CertificateDer<'static>,
    server_der: CertificateDer<'static>,
    server_key_der: Vec<u8>,
}

/// Writes ca-cert.pem, server-cert.pem and server-key.pem into `dir`, as QEMU expects.
fn make_pki(dir: &std::path::Path) -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "qmp test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();

    let key = KeyPair::generate().unwrap();
    let mut srv =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    srv.distinguished_name.push(DnType::CommonName, "localhost");
    srv.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    srv.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let srv_cert = srv.signed_by(&key, &ca_cert, &ca_key).unwrap();

    std::fs::write(dir.join("ca-cert.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server-cert.pem"), srv_cert.pem()).unwrap();
    std::fs::write(dir.join("server-key.pem"), key.serialize_pem()).unwrap();
    Pki {
        ca_der: ca_cert.der().clone(),
        server_der: srv_cert.der().clone(),
        server_key_der: key.serialize_der(),
    }
}

fn client_config(ca: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

fn qemu_tls() -> (Process, u16, Pki) {
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir(&pki_dir).unwrap();
    let pki = make_pki(&pki_dir);
    let port = free_port();
    let mut cmd = qemu_base(dir.path());
    cmd.arg("-object")
        .arg(format!(
            "tls-creds-x509,id=tls0,dir={},endpoint=server,verify-peer=off",
            pki_dir.display()
        ))
        .arg("-chardev")
        .arg(format!(
            "socket,id=mon0,host=127.0.0.1,port={port},server=on,wait=off,tls-creds=tls0"
        ))
        .args(["-mon", "chardev=mon0,mode=control"]);
    let p = spawn_process("qemu", cmd, dir);
    wait_for_port(port);
    (p, port, pki)
}

#[tokio::test]
async fn tls_session_and_disconnect_do_not_hang() {
    init_tracing();
    let (_qemu, port, pki) = qemu_tls();
    let client = Client::builder("tls")
        .connect_timeout(T)
        .command_timeout(T)
        .build();
    client
        .connect_tls(
            ("127.0.0.1", port),
            TlsConfig::new(client_config(&pki.ca_der)),
        )
        .await
        .unwrap();
    assert_eq!(client.greeting().unwrap().qemu_version(), Some((10, 0, 2)));
    let v = client
        .execute(RawCommand::new("query-status"))
        .await
        .unwrap();
    assert_eq!(v["status"], "running");
    // The Python client hangs here forever (its TLS flush waits on a write buffer
    // that never drains).
    tokio::time::timeout(Duration::from_secs(10), client.disconnect())
        .await
        .expect("disconnect over TLS hung")
        .unwrap();
    assert_eq!(client.runstate(), RunState::Idle);

    // Reconnect with an explicit server name.
    client
        .connect_tls(
            ("127.0.0.1", port),
            TlsConfig::new(client_config(&pki.ca_der)).server_name("localhost"),
        )
        .await
        .unwrap();
    client
        .execute(RawCommand::new("query-status"))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), client.disconnect())
        .await
        .expect("disconnect over TLS hung")
        .unwrap();
}

#[tokio::test]
async fn untrusted_certificate_fails_in_the_connection_phase() {
    init_tracing();
    let (_qemu, port, _pki) = qemu_tls();
    let other_dir = tempfile::tempdir().unwrap();
    let other = make_pki(other_dir.path());
    let client = Client::builder("tls-bad").connect_timeout(T).build();
    let err = client
        .connect_tls(
            ("127.0.0.1", port),
            TlsConfig::new(client_config(&other.ca_der)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Connect {
                phase: ConnectPhase::Connection,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_eq!(client.runstate(), RunState::Idle);

    // A UNIX socket needs an explicit server name.
    let err = client
        .connect_tls(
            "/nonexistent/qmp.sock",
            TlsConfig::new(client_config(&other.ca_der)),
        )
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Connect { .. }), "{err:?}");
}

#[tokio::test]
async fn accepting_qemu_as_a_tls_client() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir(&pki_dir).unwrap();
    let pki = make_pki(&pki_dir);
    // QEMU as the TLS client only needs the CA to verify us.
    std::fs::remove_file(pki_dir.join("server-cert.pem")).unwrap();
    std::fs::remove_file(pki_dir.join("server-key.pem")).unwrap();
    let server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![pki.server_der.clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(pki.server_key_der.clone().into()),
    )
    .unwrap();

    let client = Client::builder("tls-server").connect_timeout(T).build();
    let bound = client
        .start_server_tls(
            ("127.0.0.1", 0),
            qmp_core::TlsServerConfig::new(Arc::new(server_config)),
        )
        .await
        .unwrap();
    let qmp_core::Address::Tcp { port, .. } = bound else {
        panic!("{bound:?}")
    };
    let mut cmd = qemu_base(dir.path());
    cmd.arg("-object")
        .arg(format!(
            "tls-creds-x509,id=tls0,dir={},endpoint=client",
            pki_dir.display()
        ))
        .arg("-chardev")
        .arg(format!(
            "socket,id=mon0,host=127.0.0.1,port={port},tls-creds=tls0"
        ))
        .args(["-mon", "chardev=mon0,mode=control"]);
    let _qemu = spawn_process("qemu", cmd, dir);
    client.accept().await.unwrap();
    assert_eq!(client.greeting().unwrap().qemu_version(), Some((10, 0, 2)));
    let v = client
        .execute(RawCommand::new("query-status"))
        .await
        .unwrap();
    assert_eq!(v["status"], "running");
    tokio::time::timeout(Duration::from_secs(10), client.disconnect())
        .await
        .expect("disconnect over TLS hung")
        .unwrap();
}
