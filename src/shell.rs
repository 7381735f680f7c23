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
        let persisted_ok = self.perform_and_observe(&core, actions);
        (r, CallOutcome { persisted_ok })
    }

    /// Perform `actions` (if any), then let the observer read the core.
    fn perform_and_observe(&self, core: &Sentinel, actions: Vec<Action>) -> bool {
        let ok = actions.is_empty() || (self.perform)(core, actions);
        if let Some(observe) = &self.observer {
            observe(core);
        }
        ok
    }
}

/// Actions of calls made with [`Shell::with_core_deferred`], not performed yet. The
/// owner performs them with [`Shell::perform_deferred`] before it lets anyone see a
/// result of those calls.
#[derive(Default)]
pub struct Deferred(Vec<Action>);

impl Deferred {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Shell {
    /// [`Shell::with_core`] whose actions are kept in `deferred` instead of performed. A
    /// connection's pipelined vote requests (`SENTINEL IS-MASTER-DOWN-BY-ADDR`: when many
    /// masters fail at once, one per master from every candidate) and hellos are then
    /// saved by one config write before their replies go out, instead of one fsync each
    /// on the single-threaded loop. The caller performs them with [`Shell::perform_deferred`]
    /// before writing any reply of these calls and before its next other call (so its
    /// events keep their order).
    pub fn with_core_deferred<R>(
        &self,
        deferred: &mut Deferred,
        f: impl FnOnce(&mut Sentinel, u64) -> R,
    ) -> R {
        let mut core = self.core.lock().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut core, now_ms());
        deferred.0.extend(core.drain_actions());
        r
    }

    /// Perform the actions kept in `deferred` (one config write covers them all).
    /// Returns `false` if the config write failed.
    pub fn perform_deferred(&self, deferred: &mut Deferred) -> bool {
        if deferred.0.is_empty() {
            return true;
        }
        let core = self.core.lock().unwrap_or_else(|e| e.into_inner());
        self.perform_and_observe(&core, std::mem::take(&mut deferred.0))
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
