//! The script job queue: notification and client-reconfig scripts, as redis-sentinel
//! schedules, limits, retries and times them out.
//!
//! This is the pure half. It never forks or reads a clock: the shell runs the
//! [`ScriptCmd`]s that [`ScriptQueue::poll`] returns and reports back with
//! [`ScriptQueue::started`], [`ScriptQueue::spawn_failed`] and [`ScriptQueue::exited`].
//!
//! Rules reproduced from redis-sentinel 7.0.15:
//! - at most [`MAX_QUEUE`] jobs; when a new job overflows the queue the oldest job that
//!   is not running is dropped;
//! - jobs start from the timer, oldest first, at most [`MAX_RUNNING`] at once;
//! - exit code 1 or death by signal means "retry": the job is rescheduled
//!   `retry_delay * 2^(runs-1)` ms later, unless it has already run [`MAX_RETRY`] times;
//! - any other failure (or the last retry failing) emits `-script-error`;
//! - a job running longer than `max_runtime` gets `-script-timeout` and SIGKILL, which
//!   then counts as a signal death (so it is retried).

use super::Action;
use crate::config::LogLevel;
use crate::resp::Reply;
use std::collections::VecDeque;

/// Most jobs kept in the queue (running or waiting).
pub const MAX_QUEUE: usize = 256;
/// Most scripts running at the same time.
pub const MAX_RUNNING: usize = 16;
/// Most runs of one job (the first run included).
pub const MAX_RETRY: u32 = 10;
/// Most argv entries including the script path (redis' `SENTINEL_SCRIPT_MAX_ARGS`).
pub const MAX_ARGS: usize = 16;

/// Identifies one job for its whole life (across retries), so late reports from the
/// shell can never be confused with a newer job that reused a pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScriptId(pub u64);

/// An event produced by the script machinery. None of them concerns an instance, so
/// they never trigger a notification script themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptEvent {
    pub level: LogLevel,
    pub channel: String,
    pub payload: String,
}

impl From<ScriptEvent> for Action {
    fn from(e: ScriptEvent) -> Action {
        Action::Event {
            level: e.level,
            channel: e.channel,
            payload: e.payload,
            script: None,
        }
    }
}

/// What the shell must do (in this order) after a [`ScriptQueue::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptCmd {
    /// Run `path` with `argv` (argv\[0\] is the path itself, then these), no shell.
    /// Report the pid with `started`, or `spawn_failed`, then the exit with `exited`.
    Start {
        id: ScriptId,
        path: String,
        argv: Vec<String>,
    },
    /// SIGKILL the running job `id` (pid given for logging; kill by id when possible).
    Kill { id: ScriptId, pid: u32 },
    /// Emit this event (log / publish): `-script-timeout`, just before its `Kill`.
    Event(ScriptEvent),
}

#[derive(Debug, Clone)]
struct Job {
    id: ScriptId,
    path: String,
    args: Vec<String>,
    running: bool,
    /// Runs started so far (redis' `retry_num`, bumped at each start).
    runs: u32,
    /// While running: when it started. Otherwise: not before this time (0 = any time).
    start_time: u64,
    /// 0 until the shell reports the pid (and whenever not running).
    pid: u32,
    /// The timeout kill was already requested for this run; asked once so a late exit
    /// report cannot produce a second `-script-timeout`.
    kill_sent: bool,
}

/// The queue of script jobs, oldest first.
#[derive(Debug, Clone, Default)]
pub struct ScriptQueue {
    jobs: VecDeque<Job>,
    next_id: u64,
}

impl ScriptQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue `path` with `args` (the arguments after the path; extra ones beyond
    /// [`MAX_ARGS`]` - 1` are ignored like redis does). Returns the job id.
    pub fn schedule(&mut self, path: &str, args: Vec<String>) -> ScriptId {
        self.next_id += 1;
        let id = ScriptId(self.next_id);
        let mut args = args;
        args.truncate(MAX_ARGS - 1);
        self.jobs.push_back(Job {
            id,
            path: path.to_string(),
            args,
            running: false,
            runs: 0,
            start_time: 0,
            pid: 0,
            kill_sent: false,
        });
        let overflow = self.jobs.len() > MAX_QUEUE;
        if let Some(i) = overflow
            .then(|| self.jobs.iter().position(|j| !j.running))
            .flatten()
        {
            self.jobs.remove(i);
        }
        id
    }

    /// The timer's share of script work: start due jobs (oldest first, within the
    /// running limit), then flag jobs running longer than `max_runtime` ms for a kill.
    pub fn poll(&mut self, now: u64, max_runtime: u64) -> Vec<ScriptCmd> {
        let mut cmds = Vec::new();
        let mut running = self.running_count();
        for job in self.jobs.iter_mut() {
            if running >= MAX_RUNNING {
                break;
            }
            if job.running || (job.start_time != 0 && job.start_time > now) {
                continue;
            }
            job.running = true;
            job.start_time = now;
            job.runs += 1;
            job.pid = 0;
            job.kill_sent = false;
            running += 1;
            cmds.push(ScriptCmd::Start {
                id: job.id,
                path: job.path.clone(),
                argv: job.args.clone(),
            });
        }
        for job in self.jobs.iter_mut() {
            // Without a pid there is nothing safe to kill yet; try again next tick.
            if job.running
                && !job.kill_sent
                && job.pid != 0
                && now.saturating_sub(job.start_time) > max_runtime
            {
                job.kill_sent = true;
                cmds.push(ScriptCmd::Event(ScriptEvent {
                    level: LogLevel::Warning,
                    channel: "-script-timeout".into(),
                    payload: format!("{} {}", job.path, job.pid),
                }));
                cmds.push(ScriptCmd::Kill {
                    id: job.id,
                    pid: job.pid,
                });
            }
        }
        cmds
    }

    /// The shell started job `id` as process `pid`. Returns the debug `+script-child`
    /// event redis emits at that point.
    pub fn started(&mut self, id: ScriptId, pid: u32) -> Option<ScriptEvent> {
        let job = self.jobs.iter_mut().find(|j| j.id == id && j.running)?;
        job.pid = pid;
        Some(ScriptEvent {
            level: LogLevel::Debug,
            channel: "+script-child".into(),
            payload: pid.to_string(),
        })
    }

    /// The process could not be created at all (redis' fork failure): reported as
    /// `-script-error <path> 99 0`; the job stays queued and may start again at the
    /// next poll. (An exec failure is not this: report it as `exited(id, 2, 0)`, which
    /// is what redis' child does when `execve` fails.)
    pub fn spawn_failed(&mut self, id: ScriptId) -> Option<ScriptEvent> {
        let job = self.jobs.iter_mut().find(|j| j.id == id && j.running)?;
        job.running = false;
        job.pid = 0;
        Some(ScriptEvent {
            level: LogLevel::Warning,
            channel: "-script-error".into(),
            payload: format!("{} 99 0", job.path),
        })
    }

    /// Job `id` ended with `exit_code` (0 when killed) or `signal` (0 when it exited).
    /// Reschedules it or drops it; returns the events to emit, in order: the debug
    /// `-script-child <pid> <exit> <signal>` and, when the job failed for good,
    /// `-script-error <path> <signal> <exit>`.
    pub fn exited(
        &mut self,
        id: ScriptId,
        exit_code: i32,
        signal: i32,
        now: u64,
        retry_delay: u64,
    ) -> Vec<ScriptEvent> {
        let Some(i) = self.jobs.iter().position(|j| j.id == id && j.running) else {
            return Vec::new();
        };
        let mut events = vec![ScriptEvent {
            level: LogLevel::Debug,
            channel: "-script-child".into(),
            payload: format!("{} {} {}", self.jobs[i].pid, exit_code, signal),
        }];
        let job = &mut self.jobs[i];
        if (signal != 0 || exit_code == 1) && job.runs != MAX_RETRY {
            job.running = false;
            job.pid = 0;
            job.start_time = now + retry_delay_for(retry_delay, job.runs);
        } else {
            if signal != 0 || exit_code != 0 {
                events.push(ScriptEvent {
                    level: LogLevel::Warning,
                    channel: "-script-error".into(),
                    payload: format!("{} {} {}", job.path, signal, exit_code),
                });
            }
            self.jobs.remove(i);
        }
        events
    }

    /// `SENTINEL PENDING-SCRIPTS`: one map per job, oldest first, with `argv`,
    /// `flags`, `pid`, `run-time` (running) or `run-delay` (waiting), `retry-num`.
    pub fn pending_reply(&self, now: u64) -> Reply {
        Reply::Array(self.jobs.iter().map(|j| job_reply(j, now)).collect())
    }

    /// `INFO` `sentinel_running_scripts`.
    pub fn running_count(&self) -> usize {
        self.jobs.iter().filter(|j| j.running).count()
    }

    /// `INFO` `sentinel_scripts_queue_length` (running jobs included).
    pub fn queue_len(&self) -> usize {
        self.jobs.len()
    }
}

/// The wait before retry number `runs` (runs made so far, ≥ 1): the base delay,
/// doubled for every run after the first (30 s, 60 s, 2 min, ... by default).
pub fn retry_delay_for(base: u64, runs: u32) -> u64 {
    let doublings = runs.saturating_sub(1).min(63);
    base.saturating_mul(1u64 << doublings)
}

/// The argv (after the path) of a client-reconfig-script call:
/// `<master-name> <leader|observer> <state> <from-ip> <from-port> <to-ip> <to-port>`.
pub fn reconfig_args(
    master: &str,
    leader: bool,
    state: &str,
    from: (&str, u16),
    to: (&str, u16),
) -> Vec<String> {
    vec![
        master.to_string(),
        if leader { "leader" } else { "observer" }.to_string(),
        state.to_string(),
        from.0.to_string(),
        from.1.to_string(),
        to.0.to_string(),
        to.1.to_string(),
    ]
}

fn job_reply(j: &Job, now: u64) -> Reply {
    let argv = std::iter::once(&j.path)
        .chain(j.args.iter())
        .map(Reply::bulk)
        .collect();
    let (time_key, time_val) = if j.running {
        ("run-time", now.saturating_sub(j.start_time))
    } else {
        ("run-delay", j.start_time.saturating_sub(now))
    };
    Reply::Map(vec![
        (Reply::bulk("argv"), Reply::Array(argv)),
        (
            Reply::bulk("flags"),
            Reply::bulk(if j.running { "running" } else { "scheduled" }),
        ),
        (Reply::bulk("pid"), Reply::bulk(j.pid.to_string())),
        (Reply::bulk(time_key), Reply::bulk(time_val.to_string())),
        (Reply::bulk("retry-num"), Reply::bulk(j.runs.to_string())),
    ])
}
