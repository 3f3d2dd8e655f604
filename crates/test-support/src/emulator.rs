//! The local Snowflake emulator, started once per test binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::emulator_venv::{emulator_source_dir, ready_venv, ReadyVenv, VENV_HINT};

/// How long the emulator may take to print its address (a cold Python start imports DuckDB).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running emulator, shared by every test of the binary.
#[derive(Debug)]
pub struct Emulator {
    host: String,
    port: u16,
    driver_path: PathBuf,
    python: PathBuf,
    log_path: PathBuf,
    // Kept for the life of the process: the emulator exits when this pipe closes, which the
    // operating system does when the test binary exits, however it exits.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
    _work_dir: tempfile::TempDir,
}

/// A database created for one test, with what a session needs to log in to it.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// The database name (upper case, unique).
    pub name: String,
    /// `PUBLIC`, created with the database.
    pub schema: String,
    pub host: String,
    pub port: u16,
    /// Any account, user and password are accepted; these are the ones tests use.
    pub account: String,
    pub user: String,
    pub password: String,
    /// The ADBC Snowflake driver of the emulator's Python environment.
    pub driver_path: PathBuf,
}

impl TestDatabase {
    /// A `connections.toml` text whose connection `name` points at this database, for tests
    /// that run the real binaries (give them `ADBC_SNOWFLAKE_DRIVER` = [`Self::driver_path`]).
    pub fn connections_toml(&self, name: &str) -> String {
        format!(
            "[{name}]\naccount = \"{}\"\nuser = \"{}\"\npassword = \"{}\"\nhost = \"{}\"\nport = {}\n\
             protocol = \"http\"\nwarehouse = \"SFEMU_WH\"\ndatabase = \"{}\"\nschema = \"{}\"\n",
            self.account, self.user, self.password, self.host, self.port, self.name, self.schema
        )
    }
}

impl Emulator {
    /// The emulator of this test binary, started on first use. Panics with a message saying
    /// how to fix the environment when it cannot start.
    pub fn start() -> &'static Emulator {
        static EMULATOR: OnceLock<Result<Emulator, String>> = OnceLock::new();
        match EMULATOR.get_or_init(launch) {
            Ok(emulator) => emulator,
            Err(message) => panic!("{message}"),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// The ADBC Snowflake driver library found in the emulator's Python environment.
    pub fn driver_path(&self) -> &Path {
        &self.driver_path
    }

    /// The Python of the emulator's environment (it also has snowflake-connector-python and
    /// pyarrow), for test helpers written in Python.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// The emulator's log file (its stderr), for failure messages.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Creates a fresh database (with schema PUBLIC) whose name starts with `prefix`.
    pub fn database(&self, prefix: &str) -> TestDatabase {
        let name = crate::unique_name(prefix);
        self.post(&format!("/sfemu/databases?name={name}"))
            .unwrap_or_else(|error| panic!("cannot create emulator database {name}: {error}"));
        TestDatabase {
            name,
            schema: "PUBLIC".to_owned(),
            host: self.host.clone(),
            port: self.port,
            account: "sfemu".to_owned(),
            user: "sfemu".to_owned(),
            password: "sfemu".to_owned(),
            driver_path: self.driver_path.clone(),
        }
    }

    /// Forgets the tokens of every session whose current database is `database`, as if they
    /// had expired (tests of re-login). Sessions of other tests are left alone.
    pub fn expire_sessions(&self, database: &str) {
        self.post(&format!("/sfemu/expire-sessions?database={database}"))
            .unwrap_or_else(|error| panic!("cannot expire emulator sessions: {error}"));
    }

    /// From now on, logins to `account` need `user` with `password` (others are refused as
    /// Snowflake refuses a bad password). Plain names only: letters, digits, `_`.
    pub fn register_user(&self, account: &str, user: &str, password: &str) {
        self.post(&format!(
            "/sfemu/users?account={account}&user={user}&password={password}"
        ))
        .unwrap_or_else(|error| panic!("cannot register an emulator user: {error}"));
    }

    /// POSTs an empty body to the layer's admin routes; the response body on HTTP 200.
    fn post(&self, path: &str) -> Result<String, String> {
        http_request(&self.host, self.port, "POST", path)
            .map_err(|error| format!("{error} (emulator log: {})", self.log_path.display()))
    }
}

fn launch() -> Result<Emulator, String> {
    let ReadyVenv {
        python,
        driver_path,
    } = ready_venv()?;

    let work_dir = tempfile::Builder::new()
        .prefix("sfemu-test-")
        .tempdir()
        .map_err(|error| format!("cannot create a folder for the emulator: {error}"))?;
    let log_path = work_dir.path().join("sfemu.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|error| format!("cannot create {}: {error}", log_path.display()))?;

    // The emulator deletes the work folder (its log and stage files) when it exits, unless
    // SFEMU_KEEP_LOGS is set; during the run the log is there for failure messages.
    let mut command = Command::new(&python);
    command.args([
        "-m",
        "sfemu",
        "--port",
        "0",
        "--exit-on-stdin-eof",
        "--log-level",
        "warning",
    ]);
    if std::env::var_os("SFEMU_KEEP_LOGS").is_none() {
        command.arg("--remove-on-exit").arg(work_dir.path());
    }
    // Strict mode (Snowflake's behaviour where fakesnow is lenient) unless the caller chose:
    // `SFEMU_STRICT=0 cargo test` runs a suite against the lenient emulator.
    let strict = std::env::var_os("SFEMU_STRICT").unwrap_or_else(|| "1".into());
    let mut child = command
        .env("SFEMU_STRICT", strict)
        .env("PYTHONPATH", emulator_source_dir())
        .env("TMPDIR", work_dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|error| {
            format!(
                "cannot start the Snowflake emulator with {}: {error}; {VENV_HINT}",
                python.display()
            )
        })?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");

    let (host, port) = read_address(stdout, &log_path)?;
    wait_until_answering(&host, port, &log_path)?;
    Ok(Emulator {
        host,
        port,
        driver_path,
        python,
        log_path,
        _stdin: Mutex::new(stdin),
        _child: Mutex::new(child),
        _work_dir: work_dir,
    })
}

/// Reads `sfemu listening on http://HOST:PORT` from the emulator's stdout, then keeps
/// draining stdout in the background so the emulator never blocks on a full pipe.
fn read_address(
    stdout: std::process::ChildStdout,
    log_path: &Path,
) -> Result<(String, u16), String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = sender.send(line);
        let mut sink = Vec::new();
        let _ = reader.read_to_end(&mut sink);
    });
    let log_tail = || std::fs::read_to_string(log_path).unwrap_or_default();
    let line = receiver.recv_timeout(START_TIMEOUT).map_err(|_| {
        format!(
            "the Snowflake emulator did not start within {}s; its log:\n{}",
            START_TIMEOUT.as_secs(),
            log_tail()
        )
    })?;
    parse_address(&line).ok_or_else(|| {
        format!(
            "the Snowflake emulator exited or printed {line:?} instead of its address; its log:\n{}",
            log_tail()
        )
    })
}

fn parse_address(line: &str) -> Option<(String, u16)> {
    let address = line.trim().strip_prefix("sfemu listening on http://")?;
    let (host, port) = address.rsplit_once(':')?;
    Some((host.to_owned(), port.parse().ok()?))
}

fn wait_until_answering(host: &str, port: u16, log_path: &Path) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match http_request(host, port, "GET", "/sfemu/health") {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() > deadline => {
                return Err(format!(
                    "the Snowflake emulator on {host}:{port} does not answer ({error}); log: {}",
                    log_path.display()
                ))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A minimal HTTP/1.1 request without a body; the response body when the status is 200.
fn http_request(host: &str, port: u16, method: &str, path: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect((host, port)).map_err(|error| error.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|error| error.to_string())?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|error| error.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|error| error.to_string())?;
    let status_line = response.lines().next().unwrap_or_default();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(body)
    } else {
        Err(format!("{method} {path} answered {status_line}: {body}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_toml_names_the_database() {
        let database = TestDatabase {
            name: "T_1".to_owned(),
            schema: "PUBLIC".to_owned(),
            host: "127.0.0.1".to_owned(),
            port: 4242,
            account: "sfemu".to_owned(),
            user: "sfemu".to_owned(),
            password: "sfemu".to_owned(),
            driver_path: PathBuf::from("/x.so"),
        };
        assert_eq!(
            database.connections_toml("emulator"),
            "[emulator]\naccount = \"sfemu\"\nuser = \"sfemu\"\npassword = \"sfemu\"\nhost = \"127.0.0.1\"\n\
             port = 4242\nprotocol = \"http\"\nwarehouse = \"SFEMU_WH\"\ndatabase = \"T_1\"\nschema = \"PUBLIC\"\n"
        );
    }

    #[test]
    fn address_line_is_parsed() {
        assert_eq!(
            parse_address("sfemu listening on http://127.0.0.1:40389\n"),
            Some(("127.0.0.1".to_owned(), 40389))
        );
        assert_eq!(parse_address("Traceback (most recent call last):"), None);
    }
}
