//! Test harness for integration tests: the Snowflake emulator and PostgreSQL.
