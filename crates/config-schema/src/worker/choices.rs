//! The choices a worker file offers (`selected_task_source`, Redshift's `auth_method`,
//! PostgreSQL's `extraction_path` and `ssl_mode`). The validated model keeps some of them as
//! they are, so both `raw` and `model` use these types; this module depends on neither.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the worker reaches the task queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskSourceKind {
    /// Call the task-queue stored procedures (needs only USAGE on them).
    SnowflakeStoredProcedure,
    /// Run the queue statements directly in one transaction.
    SnowflakeDirectSql,
}

/// Redshift authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RedshiftAuthMethod {
    /// User name and password.
    #[serde(rename = "standard")]
    Standard,
    /// IAM credentials for a provisioned cluster (cluster_id, region, access keys).
    #[serde(rename = "iam-provisioned-cluster")]
    IamProvisionedCluster,
}

/// How the worker reads PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostgresExtractionPath {
    Native,
    Odbc,
}

/// libpq's `sslmode` values, spelled as libpq spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PgSslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl PgSslMode {
    pub const ALL: [PgSslMode; 6] = [
        PgSslMode::Disable,
        PgSslMode::Allow,
        PgSslMode::Prefer,
        PgSslMode::Require,
        PgSslMode::VerifyCa,
        PgSslMode::VerifyFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PgSslMode::Disable => "disable",
            PgSslMode::Allow => "allow",
            PgSslMode::Prefer => "prefer",
            PgSslMode::Require => "require",
            PgSslMode::VerifyCa => "verify-ca",
            PgSslMode::VerifyFull => "verify-full",
        }
    }

    /// The mode named `text` (libpq's spelling, any case).
    pub fn parse(text: &str) -> Option<PgSslMode> {
        PgSslMode::ALL
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(text))
    }
}
