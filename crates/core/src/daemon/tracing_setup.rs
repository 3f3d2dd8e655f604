//! Logs of both daemons: `tracing` events to standard error (standard output carries only
//! results), filtered by `RUST_LOG` (default `info`), with colours only on a terminal so that
//! captured logs stay plain text.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is unset or invalid.
pub fn default_filter() -> &'static str {
    "info"
}

/// Installs the subscriber. A second call (tests run daemons in-process) is harmless.
pub fn init_tracing() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter()));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_filter_is_pinned_and_a_second_init_is_harmless() {
        assert_eq!(default_filter(), "info");
        init_tracing();
        init_tracing();
    }
}
