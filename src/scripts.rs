//! The tokio side of scripts: runs the [`ScriptCmd`]s the core's
//! [`ScriptQueue`](crate::core::scripts::ScriptQueue) asks for and reports what the
//! processes did, on a channel, so the event loop can feed it back into the core.
//!
//! Starting is synchronous (a plain spawn, safe to call with the core lock held); the
//! wait for each child runs in its own task. Reports for one job always arrive in order:
//! `Started` (or `SpawnFailed`) first, then `Exited`.

use crate::core::Event;
use crate::core::scripts::{ScriptCmd, ScriptEvent, ScriptId, ScriptQueue};
use std::collections::HashMap;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::sync::{Arc, Mutex};
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot};

/// What happened to a job's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptReport {
    /// The process exists ([`Event::ScriptStarted`]).
    Started { id: ScriptId, pid: u32 },
    /// No process could be created (fork-like failure: out of processes or memory),
    /// [`Event::ScriptSpawnFailed`].
    SpawnFailed { id: ScriptId },
    /// The process ended ([`Event::ScriptExited`]).
    /// `code` is 0 when killed by a signal, `signal` 0 when it exited normally
    /// (what `WEXITSTATUS` / `WTERMSIG` give redis). An exec failure (missing or
    /// non-executable file) is reported as code 2, as redis' child `_exit(2)`s then.
    Exited {
        id: ScriptId,
        pid: u32,
        code: i32,
        signal: i32,
    },
}

impl ScriptReport {
    /// The core event this report is; the event loop feeds it to
    /// [`crate::core::Sentinel::handle`] with the time it arrived.
    pub fn into_event(self) -> Event {
        match self {
            ScriptReport::Started { id, pid } => Event::ScriptStarted { id, pid },
            ScriptReport::SpawnFailed { id } => Event::ScriptSpawnFailed { id },
            ScriptReport::Exited {
                id, code, signal, ..
            } => Event::ScriptExited { id, code, signal },
        }
    }

    /// Feed this report into a standalone queue at time `now` (`retry_delay` is the
    /// SCRIPT-RETRY-DELAY) and return the events to emit, in order: what the core does
    /// with [`ScriptReport::into_event`], for driving a [`ScriptQueue`] on its own.
    pub fn apply(self, queue: &mut ScriptQueue, now: u64, retry_delay: u64) -> Vec<ScriptEvent> {
        match self {
            ScriptReport::Started { id, pid } => queue.started(id, pid).into_iter().collect(),
            ScriptReport::SpawnFailed { id } => queue.spawn_failed(id).into_iter().collect(),
            ScriptReport::Exited {
                id, code, signal, ..
            } => queue.exited(id, code, signal, now, retry_delay),
        }
    }
}

/// Spawns and kills script processes. Cheap to clone; all clones share the children.
#[derive(Clone)]
pub struct ScriptRunner {
    reports: mpsc::UnboundedSender<ScriptReport>,
    /// Kill switches of the running children, by job.
    kills: Arc<Mutex<HashMap<ScriptId, oneshot::Sender<()>>>>,
}

impl ScriptRunner {
    /// A runner and the receiving end of its reports.
    pub fn new() -> (ScriptRunner, mpsc::UnboundedReceiver<ScriptReport>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let runner = ScriptRunner {
            reports: tx,
            kills: Arc::new(Mutex::new(HashMap::new())),
        };
        (runner, rx)
    }

    /// Perform one command from `ScriptQueue::poll`. `Event` commands are not the
    /// runner's business (the caller logs/publishes them) and are ignored here.
    /// Must be called from within a tokio runtime.
    pub fn perform(&self, cmd: &ScriptCmd) {
        match cmd {
            ScriptCmd::Start { id, path, argv } => self.start(*id, path, argv),
            ScriptCmd::Kill { id, .. } => self.kill(*id),
            ScriptCmd::Event(_) => {}
        }
    }

    /// Run `path` directly (no shell, argv\[0\] = `path`, environment inherited).
    pub fn start(&self, id: ScriptId, path: &str, argv: &[String]) {
        // execve never searches $PATH: a bare name is a file in the working directory.
        let program = if path.contains('/') {
            path.to_string()
        } else {
            format!("./{path}")
        };
        let mut cmd = Command::new(program);
        cmd.arg0(path).args(argv);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let report = if is_fork_failure(&e) {
                    ScriptReport::SpawnFailed { id }
                } else {
                    ScriptReport::Exited {
                        id,
                        pid: 0,
                        code: 2,
                        signal: 0,
                    }
                };
                let _ = self.reports.send(report);
                return;
            }
        };
        let pid = child.id().unwrap_or(0);
        let _ = self.reports.send(ScriptReport::Started { id, pid });
        let (kill_tx, mut kill_rx) = oneshot::channel();
        self.lock().insert(id, kill_tx);
        let reports = self.reports.clone();
        let kills = self.kills.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                st = child.wait() => st,
                r = &mut kill_rx => {
                    // Kill via the handle: it cannot hit a recycled pid. A dropped
                    // sender (runner gone) just means: keep waiting.
                    if r.is_ok() {
                        let _ = child.start_kill();
                    }
                    child.wait().await
                }
            };
            kills.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
            let (code, signal) = match status {
                Ok(st) => (st.code().unwrap_or(0), st.signal().unwrap_or(0)),
                // Waiting itself failed: treat as a signal death so the job is retried.
                Err(_) => (0, libc::SIGKILL),
            };
            let _ = reports.send(ScriptReport::Exited {
                id,
                pid,
                code,
                signal,
            });
        });
    }

    /// SIGKILL job `id` if it is still running; its `Exited` report follows.
    pub fn kill(&self, id: ScriptId) {
        if let Some(tx) = self.lock().remove(&id) {
            let _ = tx.send(());
        }
    }

    /// How many children are alive (not yet reaped).
    pub fn alive(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ScriptId, oneshot::Sender<()>>> {
        self.kills.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether a spawn error happened before the new program could even be tried (redis
/// reports a failed `fork` as `-script-error <path> 99 0`); everything else is an exec
/// failure in the child.
fn is_fork_failure(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::ENOMEM))
}
