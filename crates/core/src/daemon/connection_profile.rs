//! The Snowflake connection of a daemon or command, from a connection profile: the one named
//! explicitly, else by SNOWFLAKE_CONNECTION_NAME, else by `default_connection_name`, else
//! `default` (see `snowflake::profile` for where the files are searched). Unused keys are
//! logged as warnings; a profile that cannot be used names itself and its file.

use std::path::PathBuf;

use crate::snowflake::profile::{load_profile, LoadedProfile, ProfileError};
use crate::snowflake::{ConnectParams, SnowflakeError};

/// Why no connection parameters could be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionProfileError {
    #[error(transparent)]
    Profile(Box<ProfileError>),
    #[error("connection `{name}` in `{}` cannot be used", file.display())]
    Unusable {
        name: String,
        file: PathBuf,
        #[source]
        source: Box<SnowflakeError>,
    },
}

/// The parameters of the connection `connection_name` names (or the default one).
pub fn connect_params(
    connection_name: Option<&str>,
) -> Result<ConnectParams, ConnectionProfileError> {
    let loaded = load_profile(connection_name)
        .map_err(|error| ConnectionProfileError::Profile(Box::new(error)))?;
    for warning in &loaded.warnings {
        tracing::warn!(file = %loaded.file.display(), "{warning}");
    }
    params_of(&loaded)
}

/// The parameters of a loaded profile.
pub fn params_of(loaded: &LoadedProfile) -> Result<ConnectParams, ConnectionProfileError> {
    ConnectParams::from_profile(&loaded.profile).map_err(|source| {
        ConnectionProfileError::Unusable {
            name: loaded.profile.name.clone(),
            file: loaded.file.clone(),
            source: Box::new(source),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snowflake::profile::load_profile_with;
    use std::path::Path;

    fn loaded(toml: &'static str) -> LoadedProfile {
        let env = |key: &str| (key == "SNOWFLAKE_HOME").then(|| "/sf".to_string());
        let read = move |path: &Path| {
            Ok((path == Path::new("/sf/connections.toml")).then(|| toml.to_string()))
        };
        load_profile_with(Some("demo"), &env, &read).expect("the profile is found")
    }

    #[test]
    fn a_usable_profile_gives_its_parameters() {
        let params = params_of(&loaded(
            "[demo]\naccount = \"acct\"\nuser = \"me\"\npassword = \"pw\"\n",
        ))
        .expect("usable");
        assert_eq!(params.user, "me");
    }

    #[test]
    fn an_unusable_profile_names_itself_and_its_file() {
        let error = params_of(&loaded("[demo]\naccount = \"acct\"\nuser = \"me\"\n")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("connection `demo` in `/sf/connections.toml` cannot be used"),
            "{error}"
        );
    }
}
