//! The tokio shell around the core: it owns the core behind a mutex, feeds it events with
//! the current time, and performs the actions it returns.
//!
//! Actions are performed while the core lock is still held, so the order in which events
//! are published, configs written and commands sent is exactly the order the core chose,
//! even with many client connections calling in concurrently.

use crate::core::{Action, Sentinel};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Performs the actions drained from the core. Gets read access to the core (e.g. to
/// snapshot the config for `PersistConfig`). Returns `false` if a `PersistConfig` failed.
pub type Performer = Box<dyn Fn(&Sentinel, Vec<Action>) -> bool + Send + Sync>;

/// Reads the core after every call, once its actions are performed (e.g. the proxy's
/// routing views, which change with the state rather than with any one action).
pub type Observer = Box<dyn Fn(&Sentinel) + Send + Sync>;

pub struct Shell {
    core: Mutex<Sentinel>,
    perform: Performer,
    observer: Option<Observer>,
}

/// What a call into the core produced besides its own result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallOutcome {
    /// False if a config rewrite requested during the call failed.
    pub persisted_ok: bool,
}

impl Shell {
    pub fn new(core: Sentinel, perform: Performer) -> Self {
        Shell {
            core: Mutex::new(core),
            perform,
            observer: None,
        }
    }

    /// The same shell, with `observer` run at the end of every [`Shell::with_core`].
    pub fn observed_by(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Run `f` on the core with the current wall-clock time, the `now` to give every
    /// input of the call (see [`crate::core`] for the contract), then perform every action
    /// it produced before returning. The time is read under the lock, so successive calls
    /// see it in the order they reach the core.
    pub fn with_core<R>(&self, f: impl FnOnce(&mut Sentinel, u64) -> R) -> (R, CallOutcome) {
        let mut core = self.core.lock().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut core, now_ms());
        let actions = core.drain_actions();
        let persisted_ok = if actions.is_empty() {
            true
        } else {
            (self.perform)(&core, actions)
        };
        if let Some(observe) = &self.observer {
            observe(&core);
        }
        (r, CallOutcome { persisted_ok })
    }
}

impl Shell {
    /// Read the core without changing it: no time, no actions to perform, nothing new for
    /// the observer (the query path, e.g. `SENTINEL GET-MASTER-ADDR-BY-NAME`).
    pub fn read_core<R>(&self, f: impl FnOnce(&Sentinel) -> R) -> R {
        let core = self.core.lock().unwrap_or_else(|e| e.into_inner());
        f(&core)
    }
}

/// Wall-clock milliseconds, the clock redis-sentinel's timers (and TILT) use.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
