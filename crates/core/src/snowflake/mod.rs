//! A Snowflake session over Apache Arrow ADBC (the Go driver loaded at run time).
