//! The plumbing both daemons (`orchestrator`, `worker`) share around their loops, written
//! once: stop signals, log set-up, printing results, the pool of Snowflake sessions their tasks
//! reuse, and turning a connection profile into connection parameters.
//!
//! The binaries' `main` installs these (tracing, signals) and calls their `run(config,
//! shutdown)`; nothing here knows about tasks or workflows.

pub mod connection_profile;
pub mod session_pool;
pub mod signal;
pub mod stdout;
pub mod tracing_setup;

pub use connection_profile::{connect_params, ConnectionProfileError};
pub use session_pool::SessionPool;
pub use signal::cancel_on_stop_signals;
pub use stdout::{print_stdout, StdoutError};
pub use tracing_setup::init_tracing;
