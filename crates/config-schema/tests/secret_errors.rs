//! A malformed worker configuration or connection profile never prints a secret value (F15):
//! neither TOML syntax errors (whose usual message quotes the offending line) nor type errors
//! ("found an integer ...") may show what was written in a password, token or key field.

#![allow(clippy::unwrap_used)]

use config_schema::connection_profile::{ProfileFile, ProfileFileKind};
use config_schema::worker::parse_worker_config;

const WORD: &str = "S3CR3TVALUE";
const NUMBER: &str = "987654321";

/// Each secret field of the worker TOML, with the rest of its section.
const WORKER_SECRETS: &[(&str, &str)] = &[
    (
        "[connections.source.postgresql]\nusername = \"u\"\ndatabase = \"d\"\nhost = \"h\"\n",
        "password",
    ),
    (
        "[connections.source.sqlserver]\nusername = \"u\"\ndatabase = \"d\"\nhost = \"h\"\n",
        "password",
    ),
    (
        "[connections.source.teradata]\ndriver_name = \"T\"\nusername = \"u\"\ndatabase = \"d\"\nhost = \"h\"\n",
        "password",
    ),
    (
        "[connections.source.redshift]\nusername = \"u\"\ndatabase = \"d\"\nhost = \"h\"\n",
        "password",
    ),
    (
        "[connections.source.redshift]\nusername = \"u\"\ndatabase = \"d\"\nauth_method = \"iam-provisioned-cluster\"\ncluster_id = \"c\"\nregion = \"r\"\nsecret_access_key_env = \"K\"\n",
        "access_key_id",
    ),
    (
        "[connections.source.redshift]\nusername = \"u\"\ndatabase = \"d\"\nauth_method = \"iam-provisioned-cluster\"\ncluster_id = \"c\"\nregion = \"r\"\naccess_key_id_env = \"K\"\n",
        "secret_access_key",
    ),
    (
        "[connections.source.redshift]\nusername = \"u\"\ndatabase = \"d\"\nauth_method = \"iam-provisioned-cluster\"\ncluster_id = \"c\"\nregion = \"r\"\naccess_key_id_env = \"K\"\nsecret_access_key_env = \"S\"\n",
        "session_token",
    ),
];

/// `key = <malformed value>` lines, each a different way TOML or the schema refuses them.
fn malformed(key: &str) -> Vec<String> {
    vec![
        format!("{key} = \"{WORD}"),
        format!("{key} = '{WORD}"),
        format!("{key} = \"\"\"{WORD}"),
        format!("{key} = {WORD}"),
        format!("{key} = \"{WORD}\\q\""),
        format!("{key} = \"{WORD}\" {WORD}"),
        format!("{key} = \"{WORD}\"\n{key} = \"{WORD}\""),
        format!("{key} = {NUMBER}"),
        format!("{key} = {NUMBER}.5"),
        format!("{key} = -{NUMBER}"),
        format!("{key} = 1979-05-27T07:32:00"),
        format!("{key} = [\"{WORD}\"]"),
        format!("{key} = {{ v = \"{WORD}\" }}"),
        format!("{key} = \"{WORD}\n\""),
    ]
}

fn assert_hidden(message: &str, context: &str) {
    for secret in [WORD, NUMBER, "1979-05-27"] {
        assert!(
            !message.contains(secret),
            "{context}: the message shows the secret:\n{message}"
        );
    }
}

#[test]
fn worker_configuration_errors_never_show_a_secret() {
    let mut checked = 0;
    for (section, key) in WORKER_SECRETS {
        for line in malformed(key) {
            let text = format!("{section}{line}\n");
            let error = parse_worker_config(&text).expect_err(&text);
            assert_hidden(&format!("{error:#}"), &text);
            assert_hidden(&format!("{error:?}"), &text);
            checked += 1;
        }
    }
    assert!(checked >= 90, "{checked}");
}

#[test]
fn connection_profile_errors_never_show_a_secret() {
    for key in ["password", "token", "private_key_file_pwd"] {
        for line in malformed(key) {
            let text = format!("[production]\naccount = \"a\"\nuser = \"u\"\n{line}\n");
            let message = match ProfileFile::parse(ProfileFileKind::ConnectionsToml, &text) {
                Err(error) => format!("{error} {error:?}"),
                Ok(file) => match file.profile("production").expect("present") {
                    Err(error) => format!("{error} {error:?}"),
                    Ok(_) => continue,
                },
            };
            assert_hidden(&message, &text);
        }
    }
}

#[test]
fn syntax_errors_still_say_where() {
    let text = "[connections.source.postgresql]\nusername = \"u\"\npassword = \"hunter2\n";
    let error = parse_worker_config(text).unwrap_err().to_string();
    assert!(!error.contains("hunter2"), "{error}");
    assert!(error.contains("at line 3, column"), "{error}");
    assert!(
        error.starts_with("the worker configuration is not valid TOML"),
        "{error}"
    );
}

#[test]
fn type_errors_of_secrets_name_the_key_and_the_kind_only() {
    let text = "[connections.source.postgresql]\nusername = \"u\"\ndatabase = \"d\"\nhost = \"h\"\npassword = 12345678\n";
    let error = parse_worker_config(text).unwrap_err().to_string();
    assert!(
        error.contains("connections.source.postgresql.password must be a string, found an integer"),
        "{error}"
    );
    assert!(!error.contains("12345678"), "{error}");
    // Values of other keys are still quoted, which helps find the mistake.
    let text = "[application]\nmax_parallel_tasks = \"four\"\n[connections.source.postgresql]\nusername = \"u\"\ndatabase = \"d\"\nhost = \"h\"\n";
    let error = parse_worker_config(text).unwrap_err().to_string();
    assert!(error.contains("found a string \"four\""), "{error}");
}
