//! `orchestrator` library: `run(config, shutdown)` so tests can run the daemon in-process.
