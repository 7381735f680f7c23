//! The one place events are formatted and emitted.
//!
//! Every event goes out as a single [`Action::Event`]: the shell logs it and publishes it
//! on the local pub/sub (unless debug). A warning about a master with a notification
//! script also queues that script here, in the core's own script queue, which starts it
//! through [`Action::Script`]; the event only names it.

use super::instance::*;
use super::{Action, Sentinel};
use crate::config::LogLevel;

/// Which instance an event is about, for the `%@` prefix.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    Master(&'a str),
    Replica(&'a str, &'a str),
    Sentinel(&'a str, &'a str),
    None,
}

impl Sentinel {
    /// The address shown for an instance: hostname with announce-hostnames, else IP.
    pub fn announced_addr<'a>(&self, c: &'a Common) -> &'a str {
        if self.announce_hostnames {
            &c.host
        } else {
            &c.ip
        }
    }

    /// `%@`: `<type> <name> <addr> <port>[ @ <master> <addr> <port>]`.
    pub fn instance_id(&self, subject: Subject) -> Option<String> {
        let (master, sub) = match subject {
            Subject::Master(m) => (self.master(m)?, None),
            Subject::Replica(m, r) => {
                let m = self.master(m)?;
                (m, Some(("slave", &m.replica(r)?.common)))
            }
            Subject::Sentinel(m, s) => {
                let m = self.master(m)?;
                (
                    m,
                    Some((
                        "sentinel",
                        &m.sentinels.iter().find(|x| x.common.name == s)?.common,
                    )),
                )
            }
            Subject::None => return None,
        };
        let mc = &master.common;
        let mid = format!("master {} {} {}", mc.name, self.announced_addr(mc), mc.port);
        Some(match sub {
            None => mid,
            Some((kind, c)) => format!(
                "{kind} {} {} {} @ {} {} {}",
                c.name,
                self.announced_addr(c),
                c.port,
                mc.name,
                self.announced_addr(mc),
                mc.port
            ),
        })
    }

    /// Emit event `channel` about `subject` with an optional suffix after `%@`
    /// (`%@ <rest>`), or a bare payload when there is no subject.
    pub(super) fn emit(&mut self, level: LogLevel, channel: &str, subject: Subject, rest: &str) {
        let payload = match self.instance_id(subject) {
            Some(id) if rest.is_empty() => id,
            Some(id) => format!("{id} {rest}"),
            None => rest.to_string(),
        };
        let master = match subject {
            Subject::Master(m) | Subject::Replica(m, _) | Subject::Sentinel(m, _) => {
                self.master_index(m)
            }
            Subject::None => None,
        };
        self.push_event(level, channel, master, payload);
    }

    /// Emit an event that concerns master `master` (so its notification script runs for
    /// warnings) but whose payload has no `%@` prefix: `+new-epoch <n>`,
    /// `+vote-for-leader <runid> <n>`, `+switch-master ...`.
    pub(super) fn emit_bare(
        &mut self,
        level: LogLevel,
        channel: &str,
        master: usize,
        payload: &str,
    ) {
        self.push_event(level, channel, Some(master), payload.to_string());
    }

    /// The sink every event goes through: cut to redis' 1024-byte log buffer, queue the
    /// master's notification script for warnings, hand the event to the shell.
    fn push_event(
        &mut self,
        level: LogLevel,
        channel: &str,
        master: Option<usize>,
        mut payload: String,
    ) {
        if payload.len() > 1023 {
            let mut cut = 1023;
            while !payload.is_char_boundary(cut) {
                cut -= 1;
            }
            payload.truncate(cut);
        }
        let script = match (level, master) {
            (LogLevel::Warning, Some(mi)) => self
                .masters
                .get(mi)
                .and_then(|m| m.notification_script.clone()),
            _ => None,
        };
        if let Some(path) = &script {
            self.run_script(path, vec![channel.to_string(), payload.clone()]);
        }
        self.push(Action::Event {
            level,
            channel: channel.to_string(),
            payload,
            script,
        });
    }
}

impl Sentinel {
    /// `+monitor` for every configured master, as redis-sentinel emits at start-up.
    pub(super) fn announce_all_monitors(&mut self) {
        let masters: Vec<(String, u32)> = self
            .masters
            .iter()
            .map(|m| (m.common.name.clone(), m.quorum))
            .collect();
        for (name, quorum) in masters {
            self.emit(
                LogLevel::Warning,
                "+monitor",
                Subject::Master(&name),
                &format!("quorum {quorum}"),
            );
        }
    }
}
