//! Idle Snowflake sessions, reused by the next task so that each task does not log in again:
//! the orchestrator's plan and load sessions, the worker's upload sessions. At most one
//! session per task slot is ever out, so the pool stays as small as `max_parallel_tasks`.
//! A session that failed is dropped (logged out) by its task instead of being given back.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::snowflake::{ConnectParams, Session, SnowflakeError};

/// Idle sessions of one set of connection parameters.
#[derive(Debug)]
pub struct SessionPool {
    params: ConnectParams,
    idle: Mutex<Vec<Session>>,
}

impl SessionPool {
    /// An empty pool whose new sessions log in with `params`.
    pub fn new(params: ConnectParams) -> SessionPool {
        SessionPool {
            params,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The parameters new sessions log in with.
    pub fn params(&self) -> &ConnectParams {
        &self.params
    }

    /// An idle session, or a new login.
    pub fn take(&self) -> Result<Session, SnowflakeError> {
        self.take_or(Session::connect)
    }

    /// An idle session, or a new one from `login` (which may, say, register it somewhere).
    pub fn take_or<E>(
        &self,
        login: impl FnOnce(&ConnectParams) -> Result<Session, E>,
    ) -> Result<Session, E> {
        let idle = self.idle().pop();
        match idle {
            Some(session) => Ok(session),
            None => login(&self.params),
        }
    }

    /// Returns a session that worked, for the next task.
    pub fn give_back(&self, session: Session) {
        self.idle().push(session);
    }

    /// Takes every idle session out (to log them out when the daemon stops).
    pub fn take_all(&self) -> Vec<Session> {
        std::mem::take(&mut *self.idle())
    }

    /// How many sessions are idle.
    pub fn idle_count(&self) -> usize {
        self.idle().len()
    }

    /// A panic while holding the lock leaves the list intact: pushing and popping are atomic.
    fn idle(&self) -> MutexGuard<'_, Vec<Session>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snowflake::Auth;

    #[test]
    fn an_empty_pool_logs_in_with_its_parameters() {
        let pool = SessionPool::new(ConnectParams::new(
            "acct",
            "user",
            Auth::Password("p".into()),
        ));
        assert_eq!(pool.idle_count(), 0);
        let mut seen = None;
        let error = pool
            .take_or(|params| {
                seen = Some(params.clone());
                Err::<Session, _>("no network")
            })
            .unwrap_err();
        assert_eq!(error, "no network");
        assert_eq!(seen.as_ref(), Some(pool.params()));
        assert!(pool.take_all().is_empty());
    }
}
