//! Applying the migrations: bootstrap, lock, ledger.
//!
//! 1. Bootstrap (every time, idempotent): the database and schemas when missing, the ledger
//!    (SCHEMA_MIGRATION) and the lock table with its single row.
//! 2. Read the ledger. Nothing pending: done, without taking the lock (a second deploy is a
//!    no-op).
//! 3. Take the lease-style lock (conditional UPDATE of the lock row with this deployer's
//!    token and an expiry); wait while another deployer holds it.
//! 4. Read the ledger again (the other deployer may have done the work), apply each pending
//!    version statement by statement, renew the lock before each version, record the outcome
//!    (a failure is recorded with SUCCESS = FALSE and retried by the next deploy).
//! 5. The queue procedures (transport `procedure`: the worker's operations only) are a
//!    repeatable step: re-created whenever their generated text changed, after dropping the
//!    signatures earlier versions deployed (Snowflake overloads procedures by argument types,
//!    so a changed signature would otherwise leave the old procedure callable), recorded under
//!    [`PROCEDURES_LEDGER_VERSION`].
//! 6. Release the lock.

use std::time::{Duration, Instant};

use crate::metadata_names::{MetadataNames, MetadataNamesSql};
use crate::queue::clock::timestamp_text;
use crate::queue::procedures_ddl;
use crate::snowflake::{SnowflakeError, SqlValue};
use crate::sql_executor::SqlExecutor;
use crate::sql_script::{statement_text, strip_comments, to_positional};

use super::error::MetadataError;
use super::migrations::{bootstrap_statements, migrations, sha256_hex, Migration};

/// Ledger version under which the repeatable queue-procedure step is recorded.
pub const PROCEDURES_LEDGER_VERSION: i64 = 1_000_000;

const SCHEMAS_PRESENT: &str = include_str!("../../../../sql/metadata/deploy/schemas_present.sql");
const LEDGER_APPLIED: &str = include_str!("../../../../sql/metadata/deploy/ledger_applied.sql");
const LEDGER_UPDATE: &str = include_str!("../../../../sql/metadata/deploy/ledger_update.sql");
const LEDGER_INSERT: &str = include_str!("../../../../sql/metadata/deploy/ledger_insert.sql");
const LOCK_ACQUIRE: &str = include_str!("../../../../sql/metadata/deploy/lock_acquire.sql");
const LOCK_RELEASE: &str = include_str!("../../../../sql/metadata/deploy/lock_release.sql");
const LOCK_HOLDER: &str = include_str!("../../../../sql/metadata/deploy/lock_holder.sql");

/// How to deploy.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// Create the queue procedures (the emulator runs them too, with its Snowflake Scripting
    /// interpreter). Off for deployers whose workers run direct statements.
    pub procedures: bool,
    /// Names this deployer in the lock and the ledger, e.g. `orchestrator@host`.
    pub deployer: String,
    /// How long the lock stays ours without renewal.
    pub lock_lease: Duration,
    /// How long to wait for another deployer's lock before giving up.
    pub lock_wait: Duration,
    /// Pause between two attempts to take the lock.
    pub lock_poll: Duration,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions {
            procedures: true,
            deployer: "orchestrator".to_owned(),
            lock_lease: Duration::from_secs(600),
            lock_wait: Duration::from_secs(900),
            lock_poll: Duration::from_secs(2),
        }
    }
}

/// What a deploy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployReport {
    /// Versions applied by this call, in order.
    pub applied: Vec<i64>,
    /// Whether this call (re)created the queue procedures.
    pub procedures_deployed: bool,
}

impl DeployReport {
    pub fn is_noop(&self) -> bool {
        self.applied.is_empty() && !self.procedures_deployed
    }
}

/// Applies the migrations of this build (see the module documentation).
pub fn deploy(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    options: &DeployOptions,
) -> Result<DeployReport, MetadataError> {
    deploy_migrations(session, names, &migrations(), options)
}

/// [`deploy`] with an explicit list of migrations (tests inject failing versions).
pub fn deploy_migrations(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    migrations: &[Migration],
    options: &DeployOptions,
) -> Result<DeployReport, MetadataError> {
    names.validate()?;
    let procedures = if options.procedures {
        Some(procedures_ddl(names)?)
    } else {
        None
    };
    let previous_schema = current_schema(session);
    let outcome = deploy_inner(session, names, migrations, procedures.as_deref(), options);
    restore_schema(session, previous_schema);
    outcome
}

fn deploy_inner(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    migrations: &[Migration],
    procedures: Option<&[String]>,
    options: &DeployOptions,
) -> Result<DeployReport, MetadataError> {
    bootstrap(session, names)?;
    if pending_work(session, names, migrations, procedures)?.is_none() {
        tracing::debug!("metadata is up to date");
        return Ok(DeployReport::default());
    }

    let owner = format!("{}:{}", options.deployer, uuid::Uuid::new_v4());
    acquire_lock(session, names, &owner, options)?;
    let outcome = apply_pending(session, names, migrations, procedures, &owner, options);
    if let Err(error) = release_lock(session, names, &owner) {
        tracing::warn!(%error, "could not release the metadata migration lock; it expires by itself");
    }
    outcome
}

/// Every statement a deploy may run, in order, for `orchestrator deploy --print`: bootstrap,
/// every version, and the queue procedures.
pub fn render_deployment(names: &MetadataNames) -> Result<Vec<String>, MetadataError> {
    names.validate()?;
    let mut statements = bootstrap_statements(names);
    for migration in migrations() {
        statements.extend(migration.statements(names));
    }
    statements.extend(procedures_ddl(names)?);
    Ok(statements)
}

struct Pending<'a> {
    migrations: Vec<&'a Migration>,
    procedures: Option<(&'a [String], String)>,
}

/// Attempts of the bootstrap: two deployers starting together may collide while creating the
/// same objects; the statements are idempotent, so the loser simply runs them again.
const BOOTSTRAP_ATTEMPTS: u32 = 3;

fn bootstrap(session: &mut impl SqlExecutor, names: &MetadataNames) -> Result<(), MetadataError> {
    let mut attempt = 1;
    loop {
        match bootstrap_once(session, names) {
            Ok(()) => return Ok(()),
            Err(error) if attempt < BOOTSTRAP_ATTEMPTS => {
                tracing::warn!(%error, attempt, "metadata bootstrap collided, running it again");
                std::thread::sleep(Duration::from_millis(250 * u64::from(attempt)));
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

fn bootstrap_once(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
) -> Result<(), MetadataError> {
    let statements = bootstrap_statements(names);
    // The first three create the database and the two schemas, each only when missing, so a
    // role without CREATE DATABASE (or CREATE SCHEMA) can deploy into a prepared database.
    let (containers, tables) = statements.split_at(3);
    let needed: Vec<&String> = match present_schemas(session, names) {
        None => containers.iter().collect(),
        Some(present) => [
            (&containers[1], names.migration_schema_name()),
            (&containers[2], names.validation_schema_name()),
        ]
        .into_iter()
        .filter(|(_, schema)| !present.contains(schema))
        .map(|(statement, _)| statement)
        .collect(),
    };
    for statement in needed {
        run_statement(
            session,
            statement,
            &[],
            "create the metadata database and schemas",
        )?;
    }
    for statement in tables {
        if let Err(error) = run_statement(
            session,
            statement,
            &[],
            "create the migration ledger and lock",
        ) {
            // Two deployers creating the lock row at once: the loser's insert conflicts, but
            // the row exists, which is all this step needs.
            if !lock_row_exists(session, names) {
                return Err(error);
            }
        }
    }
    Ok(())
}

/// The session's current database and schema, to restore after the deploy: CREATE SCHEMA
/// and the migrations' USE SCHEMA change them.
fn current_schema(session: &mut impl SqlExecutor) -> Option<(String, Option<String>)> {
    let rows = session
        .query_rows("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()", &[])
        .ok()?;
    let mut row = rows.into_iter().next()?.into_iter();
    let database = row.next().flatten()?;
    Some((database, row.next().flatten()))
}

fn restore_schema(session: &mut impl SqlExecutor, previous: Option<(String, Option<String>)>) {
    let statement = match previous {
        Some((database, Some(schema))) => format!(
            "USE SCHEMA {}.{}",
            quote_identifier(&database),
            quote_identifier(&schema)
        ),
        Some((database, None)) => format!("USE DATABASE {}", quote_identifier(&database)),
        None => return,
    };
    if let Err(error) = session.execute(&statement, &[]) {
        tracing::warn!(%error, "could not restore the session's schema after the deploy");
    }
}

/// A double-quoted identifier, for names read back from the session (exact case).
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The metadata schemas that exist, or `None` when the database itself is missing (the query
/// fails then).
fn present_schemas(session: &mut impl SqlExecutor, names: &MetadataNames) -> Option<Vec<String>> {
    let statement = to_positional(&statement_text(SCHEMAS_PRESENT, names));
    let params = [
        SqlValue::Text(names.migration_schema_name()),
        SqlValue::Text(names.validation_schema_name()),
    ];
    debug_assert_eq!(
        statement.parameter_names,
        ["migration_schema", "validation_schema"]
    );
    let rows = session.query_rows(&statement.sql, &params).ok()?;
    Some(
        rows.into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .collect(),
    )
}

fn lock_row_exists(session: &mut impl SqlExecutor, names: &MetadataNames) -> bool {
    let statement = statement_text(LOCK_HOLDER, names);
    session
        .query_rows(&statement, &[])
        .map(|rows| !rows.is_empty())
        .unwrap_or(false)
}

fn pending_work<'a>(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    migrations: &'a [Migration],
    procedures: Option<&'a [String]>,
) -> Result<Option<Pending<'a>>, MetadataError> {
    let applied = applied_versions(session, names)?;
    let mut pending = Vec::new();
    for migration in migrations {
        match applied
            .iter()
            .find(|(version, _)| *version == migration.version)
        {
            Some((_, checksum)) => {
                if *checksum != migration.checksum() {
                    tracing::warn!(
                        version = migration.version,
                        "metadata migration V{:03} changed since it was applied; it is not applied again",
                        migration.version
                    );
                }
            }
            None => pending.push(migration),
        }
    }
    let procedures = procedures.and_then(|ddl| {
        let checksum = sha256_hex(&ddl.join(";\n"));
        let current = applied.iter().any(|(version, applied_checksum)| {
            *version == PROCEDURES_LEDGER_VERSION && *applied_checksum == checksum
        });
        (!current).then_some((ddl, checksum))
    });
    if pending.is_empty() && procedures.is_none() {
        return Ok(None);
    }
    Ok(Some(Pending {
        migrations: pending,
        procedures,
    }))
}

fn applied_versions(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
) -> Result<Vec<(i64, String)>, MetadataError> {
    let statement = statement_text(LEDGER_APPLIED, names);
    let rows = session
        .query_rows(&statement, &[])
        .map_err(|source| MetadataError::snowflake("read the migration ledger", source))?;
    rows.into_iter()
        .map(|row| {
            let version = row
                .first()
                .cloned()
                .flatten()
                .and_then(|text| text.split('.').next().and_then(|whole| whole.parse().ok()))
                .ok_or_else(|| MetadataError::UnexpectedResult {
                    action: "read the migration ledger",
                    message: format!("row {row:?} has no numeric VERSION"),
                })?;
            let checksum = row.get(1).cloned().flatten().unwrap_or_default();
            Ok((version, checksum))
        })
        .collect()
}

fn acquire_lock(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    owner: &str,
    options: &DeployOptions,
) -> Result<(), MetadataError> {
    let started = Instant::now();
    loop {
        if try_lock(session, names, owner, options.lock_lease)? {
            tracing::info!(owner, "took the metadata migration lock");
            return Ok(());
        }
        if started.elapsed() >= options.lock_wait {
            return Err(MetadataError::LockTimeout {
                holder: lock_holder(session, names),
                waited: options.lock_wait,
            });
        }
        tracing::info!("another deployer holds the metadata migration lock; waiting");
        std::thread::sleep(options.lock_poll);
    }
}

/// Takes or renews the lock; true when it is ours afterwards. A write conflict with a
/// concurrent deployer counts as "not ours yet".
fn try_lock(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    owner: &str,
    lease: Duration,
) -> Result<bool, MetadataError> {
    let statement = to_positional(&statement_text(LOCK_ACQUIRE, names));
    let now = chrono::Utc::now().naive_utc();
    let expires_at = now + lease;
    let params: Vec<SqlValue> = statement
        .parameter_names
        .iter()
        .map(|name| match name.as_str() {
            "owner" => SqlValue::Text(owner.to_owned()),
            "now" => SqlValue::Text(timestamp_text(now)),
            _ => SqlValue::Text(timestamp_text(expires_at)),
        })
        .collect();
    if let Err(error) = session.execute(&statement.sql, &params) {
        if error.is_retryable() {
            tracing::debug!(%error, "lock attempt conflicted");
            return Ok(false);
        }
        return Err(MetadataError::snowflake(
            "take the metadata migration lock",
            error,
        ));
    }
    Ok(lock_holder(session, names).as_deref() == Some(owner))
}

fn lock_holder(session: &mut impl SqlExecutor, names: &MetadataNames) -> Option<String> {
    let statement = statement_text(LOCK_HOLDER, names);
    session
        .query_rows(&statement, &[])
        .ok()
        .and_then(|rows| rows.into_iter().next())
        .and_then(|row| row.into_iter().next().flatten())
}

fn release_lock(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    owner: &str,
) -> Result<(), MetadataError> {
    let statement = to_positional(&statement_text(LOCK_RELEASE, names));
    session
        .execute(&statement.sql, &[SqlValue::Text(owner.to_owned())])
        .map(|_| ())
        .map_err(|source| MetadataError::snowflake("release the metadata migration lock", source))
}

fn apply_pending(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    migrations: &[Migration],
    procedures: Option<&[String]>,
    owner: &str,
    options: &DeployOptions,
) -> Result<DeployReport, MetadataError> {
    let mut report = DeployReport::default();
    // Under the lock: another deployer may have applied everything while we waited.
    let Some(pending) = pending_work(session, names, migrations, procedures)? else {
        return Ok(report);
    };
    for migration in pending.migrations {
        if !try_lock(session, names, owner, options.lock_lease)? {
            return Err(MetadataError::LockLost {
                version: migration.version,
            });
        }
        apply_one(
            session,
            names,
            migration.version,
            &migration.description,
            &migration.checksum(),
            &migration.statements(names),
            owner,
        )?;
        report.applied.push(migration.version);
    }
    if let Some((ddl, checksum)) = pending.procedures {
        if !try_lock(session, names, owner, options.lock_lease)? {
            return Err(MetadataError::LockLost {
                version: PROCEDURES_LEDGER_VERSION,
            });
        }
        apply_one(
            session,
            names,
            PROCEDURES_LEDGER_VERSION,
            "queue procedures (repeatable)",
            &checksum,
            ddl,
            owner,
        )?;
        report.procedures_deployed = true;
    }
    Ok(report)
}

fn apply_one(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    version: i64,
    description: &str,
    checksum: &str,
    statements: &[String],
    owner: &str,
) -> Result<(), MetadataError> {
    tracing::info!(version, description, "applying metadata migration");
    let started = Instant::now();
    for statement in statements {
        if let Err(source) = session.execute(statement, &[]) {
            let record = LedgerRecord {
                version,
                description,
                checksum,
                elapsed: started.elapsed(),
                success: false,
                owner,
                last_error: Some(source.to_string()),
            };
            if let Err(error) = record_outcome(session, names, &record) {
                tracing::warn!(%error, version, "could not record the failed migration in the ledger");
            }
            return Err(MetadataError::MigrationFailed {
                version,
                description: description.to_owned(),
                statement: crate::snowflake::first_line(&strip_comments(statement)),
                source: Box::new(source),
            });
        }
    }
    let record = LedgerRecord {
        version,
        description,
        checksum,
        elapsed: started.elapsed(),
        success: true,
        owner,
        last_error: None,
    };
    record_outcome(session, names, &record)
}

struct LedgerRecord<'a> {
    version: i64,
    description: &'a str,
    checksum: &'a str,
    elapsed: Duration,
    success: bool,
    owner: &'a str,
    last_error: Option<String>,
}

/// Writes the ledger row of a version: UPDATE of an earlier attempt's row, else INSERT.
/// Runs under the migration lock, so the two statements cannot race another deployer.
fn record_outcome(
    session: &mut impl SqlExecutor,
    names: &MetadataNames,
    record: &LedgerRecord<'_>,
) -> Result<(), MetadataError> {
    let now = timestamp_text(chrono::Utc::now().naive_utc());
    let value = |name: &str| match name {
        "version" => SqlValue::Int(record.version),
        "description" => SqlValue::Text(record.description.to_owned()),
        "checksum" => SqlValue::Text(record.checksum.to_owned()),
        "now" => SqlValue::Text(now.clone()),
        "execution_time_ms" => {
            SqlValue::Int(i64::try_from(record.elapsed.as_millis()).unwrap_or(i64::MAX))
        }
        "success" => SqlValue::Bool(record.success),
        "applied_by" => SqlValue::Text(record.owner.to_owned()),
        _ => SqlValue::from(record.last_error.clone()),
    };
    let wrap = |source: SnowflakeError| {
        MetadataError::snowflake("record a migration in the ledger", source)
    };
    let update = to_positional(&statement_text(LEDGER_UPDATE, names));
    let params: Vec<SqlValue> = update
        .parameter_names
        .iter()
        .map(|name| value(name))
        .collect();
    if session.execute(&update.sql, &params).map_err(wrap)? > 0 {
        return Ok(());
    }
    let insert = to_positional(&statement_text(LEDGER_INSERT, names));
    let params: Vec<SqlValue> = insert
        .parameter_names
        .iter()
        .map(|name| value(name))
        .collect();
    session
        .execute(&insert.sql, &params)
        .map(|_| ())
        .map_err(wrap)
}

fn run_statement(
    session: &mut impl SqlExecutor,
    statement: &str,
    params: &[SqlValue],
    action: &'static str,
) -> Result<(), MetadataError> {
    session
        .execute(statement, params)
        .map(|_| ())
        .map_err(|source| MetadataError::snowflake(action, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_deployment_is_pinned() {
        let statements = render_deployment(&MetadataNames::default()).expect("valid names");
        insta::assert_snapshot!(statements.join(";\n\n"));
    }

    /// Answers queries by what they read; records every statement.
    #[derive(Default)]
    struct FakeAccount {
        present_schemas: Vec<&'static str>,
        applied: Vec<(i64, String)>,
        executed: Vec<String>,
    }

    impl SqlExecutor for FakeAccount {
        fn execute(&mut self, sql: &str, _params: &[SqlValue]) -> Result<i64, SnowflakeError> {
            self.executed.push(sql.to_owned());
            Ok(1)
        }

        fn query_rows(
            &mut self,
            sql: &str,
            _params: &[SqlValue],
        ) -> Result<crate::sql_executor::Rows, SnowflakeError> {
            let text = |value: &str| Some(value.to_owned());
            Ok(if sql.contains("INFORMATION_SCHEMA.SCHEMATA") {
                self.present_schemas
                    .iter()
                    .map(|schema| vec![text(schema)])
                    .collect()
            } else if sql.contains("FROM SNOWCONVERT_AI.DATA_MIGRATION.SCHEMA_MIGRATION\n") {
                self.applied
                    .iter()
                    .map(|(version, checksum)| vec![Some(version.to_string()), text(checksum)])
                    .collect()
            } else if sql.contains("CURRENT_DATABASE()") {
                vec![vec![text("WORK"), text("PUBLIC")]]
            } else {
                vec![vec![None]]
            })
        }

        fn transaction<T, E>(
            &mut self,
            body: impl FnOnce(&mut Self) -> Result<T, E>,
        ) -> Result<T, E>
        where
            E: From<SnowflakeError>,
        {
            body(self)
        }
    }

    #[test]
    fn an_up_to_date_prepared_database_is_left_alone() {
        let mut account = FakeAccount {
            present_schemas: vec!["DATA_MIGRATION"],
            applied: migrations()
                .iter()
                .map(|migration| (migration.version, migration.checksum()))
                .collect(),
            ..FakeAccount::default()
        };
        let options = DeployOptions {
            procedures: false,
            ..DeployOptions::default()
        };
        let report = deploy(&mut account, &MetadataNames::default(), &options).expect("deploy");
        assert!(report.is_noop());
        let created: Vec<&str> = account
            .executed
            .iter()
            .filter(|sql| sql.starts_with("CREATE DATABASE") || sql.starts_with("CREATE SCHEMA"))
            .map(String::as_str)
            .collect();
        assert_eq!(
            created,
            vec!["CREATE SCHEMA IF NOT EXISTS SNOWCONVERT_AI.DATA_VALIDATION"],
            "only the missing schema is created"
        );
        assert!(
            !account
                .executed
                .iter()
                .any(|sql| sql.contains("SCHEMA_MIGRATION_LOCK\nSET OWNER")),
            "nothing pending: the lock is not taken"
        );
        assert_eq!(
            account.executed.last().map(String::as_str),
            Some("USE SCHEMA \"WORK\".\"PUBLIC\""),
            "the session's schema is restored"
        );
    }

    #[test]
    fn printing_refuses_names_that_need_quoting() {
        let names = MetadataNames {
            database: "my db".to_owned(),
            ..MetadataNames::default()
        };
        assert!(matches!(
            render_deployment(&names),
            Err(MetadataError::InvalidName { .. })
        ));
    }
}
