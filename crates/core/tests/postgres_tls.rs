//! TLS on the native PostgreSQL path, against a real server with TLS on.
//!
//! The test starts its own PostgreSQL cluster (initdb into a temporary directory, a free port,
//! `ssl = on` with a certificate signed by a throw-away CA that names only `localhost`), so the
//! shared server on 5432 is left alone. pg_hba.conf accepts TLS and plaintext sessions, except
//! for the database `secured`, which accepts TLS only (`hostssl` / `hostnossl ... reject`).
//!
//! Needs the PostgreSQL server binaries (Debian: postgresql; `initdb` and `pg_ctl` under
//! /usr/lib/postgresql/<version>/bin), the `postgres` system user, and `openssl` for the
//! certificates.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::{DataType, Field, Schema};
use migration_core::source::extract::{
    extract, ExtractError, ExtractOptions, ExtractRequest, LocalDirUploader, SourceSpec,
};
use migration_core::source::parquet_sink::ParquetOptions;
use migration_core::source::postgres_native::{
    connect, PgConnectParams, PgReadOptions, PgTls, SslMode,
};
use tokio_util::sync::CancellationToken;

const HINT: &str = "this test starts its own PostgreSQL cluster: it needs the server binaries \
(apt-get install postgresql), the `postgres` system user and openssl (apt-get install openssl)";

/// A private PostgreSQL cluster with TLS on; stopped and removed on drop.
struct TlsCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{HINT}: cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{HINT}: {command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn as_postgres(bin: &Path, tool: &str) -> Command {
    let mut command = Command::new("runuser");
    command.args(["-u", "postgres", "--"]).arg(bin.join(tool));
    command
}

fn server_bin() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap_or_else(|e| panic!("{HINT}: /usr/lib/postgresql: {e}"))
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    candidates.sort();
    candidates
        .pop()
        .unwrap_or_else(|| panic!("{HINT}: no initdb under /usr/lib/postgresql"))
}

/// A CA certificate and key in `dir` named `name.crt` / `name.key`.
fn make_ca(dir: &Path, name: &str) {
    run(Command::new("openssl")
        .current_dir(dir)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", &format!("/CN={name}")])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .args([
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
        ]));
}

impl TlsCluster {
    fn start() -> TlsCluster {
        let bin = server_bin();
        let dir = tempfile::Builder::new()
            .prefix("pg-tls-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let path = dir.path();
        make_ca(path, "ca");
        make_ca(path, "other-ca");
        run(Command::new("openssl")
            .current_dir(path)
            .args([
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
            ])
            .args(["-keyout", "server.key", "-out", "server.csr"]));
        std::fs::write(
            path.join("server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .expect("extensions file");
        run(Command::new("openssl")
            .current_dir(path)
            .args([
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
            ])
            .args(["-CAcreateserial", "-days", "2", "-extfile", "server.ext"])
            .args(["-out", "server.crt"]));
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path));
        run(Command::new("chmod").arg("700").arg(path));
        run(Command::new("chmod")
            .arg("600")
            .arg(path.join("server.key")));
        let data = path.join("data");
        run(as_postgres(&bin, "initdb")
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data));
        std::fs::write(
            data.join("pg_hba.conf"),
            "hostnossl secured all 127.0.0.1/32 reject\n\
             hostssl all all 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 trust\n\
             host all all ::1/128 trust\n\
             local all all trust\n",
        )
        .expect("pg_hba.conf");
        let port = free_port();
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={dir} \
             -c ssl=on -c ssl_cert_file={dir}/server.crt -c ssl_key_file={dir}/server.key \
             -c fsync=off",
            dir = path.display()
        );
        run(as_postgres(&bin, "pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(path.join("server.log"))
            .args(["-o", &options, "start"]));
        let cluster = TlsCluster { dir, bin, port };
        cluster
            .admin()
            .batch_execute("CREATE DATABASE secured")
            .expect("create database secured");
        cluster
    }

    /// A writable plaintext session for setting up (the extraction sessions are read-only).
    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=disable",
                self.port
            ),
            postgres::NoTls,
        )
        .unwrap_or_else(|e| panic!("{HINT}: the test cluster does not answer: {e}"))
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    fn params(&self, database: &str, mode: SslMode, root_cert: Option<&str>) -> PgConnectParams {
        self.params_for("127.0.0.1", database, mode, root_cert)
    }

    fn params_for(
        &self,
        host: &str,
        database: &str,
        mode: SslMode,
        root_cert: Option<&str>,
    ) -> PgConnectParams {
        PgConnectParams {
            host: host.into(),
            port: self.port,
            user: "postgres".into(),
            password: None,
            database: database.into(),
            connect_timeout: Duration::from_secs(10),
            application_name: "postgres-tls-test".into(),
            tls: PgTls {
                mode,
                root_cert: root_cert.map(|file| self.path(file)),
            },
        }
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin, "pg_ctl")
            .args(["-m", "immediate", "-D"])
            .arg(self.dir.path().join("data"))
            .arg("stop")
            .output();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Connects and asks the server whether this session is encrypted.
fn session_uses_tls(params: &PgConnectParams) -> Result<bool, ExtractError> {
    let mut client = connect(params)?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("pg_stat_ssl");
    Ok(row.get(0))
}

#[test]
fn native_postgresql_speaks_tls_as_libpq_modes_define() {
    let cluster = TlsCluster::start();

    // Plain modes stay plaintext; the default (prefer) and require encrypt.
    assert!(
        !session_uses_tls(&cluster.params("postgres", SslMode::Disable, None)).expect("disable")
    );
    assert!(!session_uses_tls(&cluster.params("postgres", SslMode::Allow, None)).expect("allow"));
    assert!(
        session_uses_tls(&cluster.params("postgres", SslMode::default(), None)).expect("prefer")
    );
    assert!(
        session_uses_tls(&cluster.params("postgres", SslMode::Require, None)).expect("require")
    );

    // A TLS-only database: disable is refused by the server, allow and prefer switch to TLS.
    let refused = session_uses_tls(&cluster.params("secured", SslMode::Disable, None))
        .expect_err("hostnossl reject");
    assert!(
        matches!(refused, ExtractError::Authentication { .. }),
        "{refused}"
    );
    assert!(session_uses_tls(&cluster.params("secured", SslMode::Allow, None)).expect("allow"));
    assert!(session_uses_tls(&cluster.params("secured", SslMode::Prefer, None)).expect("prefer"));

    // Certificate checks: the chain (verify-ca), and the chain and the host name (verify-full).
    let ca = Some("ca.crt");
    assert!(
        session_uses_tls(&cluster.params("postgres", SslMode::VerifyCa, ca)).expect("verify-ca")
    );
    assert!(session_uses_tls(&cluster.params_for(
        "localhost",
        "postgres",
        SslMode::VerifyFull,
        ca
    ))
    .expect("verify-full with the certificate's host name"));
    let wrong_host = session_uses_tls(&cluster.params("postgres", SslMode::VerifyFull, ca))
        .expect_err("the certificate names localhost, not 127.0.0.1");
    assert!(
        matches!(wrong_host, ExtractError::Tls { .. }),
        "{wrong_host}"
    );
    assert!(!wrong_host.is_retryable());
    let message = wrong_host.to_string();
    assert!(
        message.contains("127.0.0.1")
            && message.contains("verify-full")
            && message.contains("ssl_mode"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("name"), "{message}");

    // A CA that did not sign the server certificate: refused by verify-ca and by require (which
    // checks the chain when a CA file is given, as libpq does).
    for mode in [SslMode::VerifyCa, SslMode::Require] {
        let untrusted = session_uses_tls(&cluster.params("postgres", mode, Some("other-ca.crt")))
            .expect_err("signed by another CA");
        assert!(matches!(untrusted, ExtractError::Tls { .. }), "{untrusted}");
    }
    let missing =
        session_uses_tls(&cluster.params("postgres", SslMode::VerifyFull, Some("none.crt")))
            .expect_err("no such CA file");
    assert!(missing.to_string().contains("none.crt"), "{missing}");

    // A partition extracted over TLS through the binary COPY path.
    cluster
        .admin()
        .batch_execute(
            "CREATE TABLE t AS SELECT i AS id, repeat('ü', i % 50) AS name FROM generate_series(1, 20000) AS s(i)",
        )
        .expect("table");
    let source = SourceSpec::PostgresNative {
        params: cluster.params("postgres", SslMode::Require, ca),
        read: PgReadOptions::default(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let request = ExtractRequest {
        select_sql: "SELECT id, name FROM t".into(),
        schema: Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("name", DataType::Utf8, true),
        ])),
    };
    let options = ExtractOptions {
        table: "postgres.public.t".into(),
        target_column_names: vec![],
        local_dir: dir.path().join("local"),
        parquet: ParquetOptions::default(),
    };
    let mut uploader = LocalDirUploader::new(dir.path().join("stage"));
    let outcome = extract(
        &source,
        &request,
        &options,
        &mut uploader,
        &CancellationToken::new(),
    )
    .expect("extraction over TLS");
    assert_eq!(outcome.rows, 20_000);
}
