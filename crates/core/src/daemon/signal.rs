//! Stop signals (after Vector's `src/signal.rs`): the first SIGINT or SIGTERM cancels the
//! root [`CancellationToken`], so the daemon stops claiming and lets running tasks finish or
//! hands them back; a second one exits at once. Exiting at once is safe: correctness comes
//! from the queue's leases, whose holders simply stop renewing them.

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// The exit status after a second stop signal: 128 + SIGINT, as shells report an interrupted
/// program.
pub const QUIT_EXIT_CODE: i32 = 130;

/// What a stop signal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalTo {
    /// Stop gracefully: cancel the root token.
    Shutdown,
    /// Exit now, without waiting for anything.
    Quit,
}

/// What the `received`-th stop signal (counting from 1) asks for.
pub fn signal_to(received: u32) -> SignalTo {
    if received <= 1 {
        SignalTo::Shutdown
    } else {
        SignalTo::Quit
    }
}

/// Watches SIGINT and SIGTERM until the process ends: the first cancels `shutdown`, the
/// second exits with [`QUIT_EXIT_CODE`]. Spawn it on the daemon's runtime before `run`.
pub async fn cancel_on_stop_signals(shutdown: CancellationToken) {
    let Some(mut signals) = StopSignals::install() else {
        tracing::warn!(
            "cannot listen for SIGTERM/SIGINT; stop the process with kill -9, which is safe"
        );
        return;
    };
    let mut received = 0;
    loop {
        signals.next().await;
        received += 1;
        match signal_to(received) {
            SignalTo::Shutdown => {
                tracing::info!(
                    "stop requested: finishing running tasks (signal again to exit at once)"
                );
                shutdown.cancel();
            }
            SignalTo::Quit => {
                tracing::warn!("second stop request: exiting now; unfinished tasks return to the queue when their leases expire");
                std::process::exit(QUIT_EXIT_CODE);
            }
        }
    }
}

/// Listeners for both stop signals, installed once so no signal falls between two waits.
struct StopSignals {
    terminate: Signal,
    interrupt: Signal,
}

impl StopSignals {
    fn install() -> Option<StopSignals> {
        Some(StopSignals {
            terminate: signal(SignalKind::terminate()).ok()?,
            interrupt: signal(SignalKind::interrupt()).ok()?,
        })
    }

    /// Waits for the next SIGTERM or SIGINT.
    async fn next(&mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_stops_gracefully_and_any_later_one_quits() {
        assert_eq!(signal_to(1), SignalTo::Shutdown);
        assert_eq!(signal_to(2), SignalTo::Quit);
        assert_eq!(signal_to(7), SignalTo::Quit);
    }
}
