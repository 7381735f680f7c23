//! Coordinated failover (issue #10, Valkey 9.0's `SENTINEL FAILOVER <name> COORDINATED`):
//! a manual failover that hands the master role over through the master's own
//! `FAILOVER TO` (Redis >= 6.2) instead of `SLAVEOF NO ONE` on the replica, so that no
//! write acknowledged by the old master is lost.
//!
//! The attempt starts like any manual failover (new epoch, forced leadership, the usual
//! replica selection) so peers, real redis-sentinel ones included, see an ordinary new
//! epoch and configuration. After `+selected-slave` it goes
//!
//! `send_failover_to` → `coordinated_handover` → (`reconf_slaves` → `update_config`)
//!
//! - `send_failover_to` (`+failover-state-send-failover-to`): as soon as the old
//!   master's command connection is up, send it `MULTI`, `CLIENT PAUSE <t+1000> WRITE`,
//!   `FAILOVER TO <replica> TIMEOUT <t>`, `EXEC`, then `INFO`.
//! - `coordinated_handover` (`+failover-state-coordinated-handover`): Redis pauses
//!   writes, waits for the target to acknowledge the whole replication stream, demotes
//!   itself and makes the target a master with `PSYNC FAILOVER`. We follow
//!   `master_failover_state` in the master's INFO (`+master-failover-state`) and the
//!   target's role, both polled every tick. The target's `role:master` is the usual
//!   `+promoted-slave`, and the rest is an ordinary failover's end. `CLIENT UNPAUSE` is
//!   sent to the old master, by then a replica of the new one, as soon as it reports
//!   `role:slave` with `no-failover` or the target reports `role:master`, and again on
//!   the first connection of its replica record after the switch (the switch closes
//!   the master's connection, dropping what it had not written yet).
//!
//! Aborts, each leaving the old master in place and writable (`FAILOVER ABORT` and
//! `CLIENT UNPAUSE` are sent to it):
//! - `-failover-abort-coordinated-refused`: the master reports `role:master` with
//!   `no-failover` after the transaction, before `t`: `FAILOVER` was refused (target not
//!   an online replica, a failover already running, Redis < 6.2) or the target refused
//!   `PSYNC FAILOVER`.
//! - `-failover-abort-coordinated-timeout`: the same report from `t` on (Redis gave up
//!   at its TIMEOUT), or no word from the master for `t + 1000` ms (a dead master).
//!
//! Why the explicit `CLIENT PAUSE` on top of the pause `FAILOVER` takes itself: writes
//! resume when this sentinel decides (on `CLIENT UNPAUSE`), not when Redis ends the
//! handover on its own; its duration bounds the pause if this sentinel dies meanwhile.
//!
//! No split brain: Redis demotes the old master before the target is promoted. Once the
//! master reported `failover-in-progress` (demoted, target being told) no `FAILOVER
//! ABORT` is sent, because it would make the old master a master again while the
//! target may already be one; the attempt then waits a failover-timeout longer for
//! Redis to finish either way.

use super::Sentinel;
use super::instance::*;
use super::monitor::Inst;
use crate::config::LogLevel;

/// The longest `FAILOVER TO ... TIMEOUT` we ask for: the writes are paused that long at
/// worst, so it is capped well below the default failover-timeout (3 minutes).
pub const MAX_HANDOVER_TIMEOUT_MS: u64 = 10_000;

/// How much longer than the handover timeout the explicit write pause lasts, and how
/// long past it this sentinel waits for the master to say how the handover ended.
pub const HANDOVER_GRACE_MS: u64 = 1_000;

/// How long observing rsentinels get between our handover notice and the pause.
pub const NOTICE_LEAD_MS: u64 = 100;

impl Sentinel {
    /// The `FAILOVER TO` timeout for master `mi`: its failover-timeout, capped.
    pub(crate) fn handover_timeout(&self, mi: usize) -> u64 {
        self.masters[mi]
            .failover_timeout_ms
            .min(MAX_HANDOVER_TIMEOUT_MS)
    }

    /// Whether a hello to `i` now would stall its command connection: `PUBLISH` is a
    /// write for `CLIENT PAUSE WRITE`, so during the handover the old master would hold
    /// it, and every PING, INFO, `FAILOVER ABORT` and `CLIENT UNPAUSE` queued behind it,
    /// until the pause ends. No hello goes to the old master until the handover ends.
    pub(crate) fn hello_would_stall(&self, i: Inst) -> bool {
        matches!(i, Inst::Master(mi)
            if self.masters[mi].failover_state == FailoverState::CoordinatedHandover)
    }

    /// `send_failover_to`: send the handover transaction to the old master once its
    /// command connection is up; abort when it stays unreachable past the handover
    /// timeout.
    pub(crate) fn failover_send_failover_to(&mut self, mi: usize) {
        let Some(ri) = self.promoted_index(mi) else {
            return;
        };
        let timeout = self.handover_timeout(mi);
        let master = Inst::Master(mi);
        if self.link_of(master).disconnected() {
            let elapsed = self.now as i64 - self.masters[mi].failover_state_change_time as i64;
            if elapsed > (timeout + HANDOVER_GRACE_MS) as i64 {
                self.abort_handover(mi, "-failover-abort-coordinated-timeout");
            }
            return;
        }
        let rc = &self.masters[mi].replicas[ri].common;
        let (host, port) = (self.announced_addr(rc).to_string(), rc.port.to_string());
        let pause = (timeout + HANDOVER_GRACE_MS).to_string();
        let t = timeout.to_string();
        if !self.handover_announced(mi, timeout) {
            return;
        }
        let cmds = [
            self.command(mi, "MULTI", &[]),
            self.command(mi, "CLIENT", &["PAUSE", &pause, "WRITE"]),
            self.command(mi, "FAILOVER", &["TO", &host, &port, "TIMEOUT", &t]),
            self.command(mi, "EXEC", &[]),
        ];
        if !cmds
            .into_iter()
            .all(|args| self.send_cmd(master, Request::Ignored, args))
        {
            return;
        }
        // Answered after EXEC: the first INFO that tells how FAILOVER TO started.
        let first = self.peek_next_req();
        let args = self.command(mi, "INFO", &[]);
        self.send_cmd(master, Request::Info, args);
        self.masters[mi].handover = Some(Handover {
            timeout_ms: timeout,
            first_info: Some(first),
            master_state: None,
            unpaused: false,
        });
        let r = Inst::Replica(mi, ri);
        self.emit_inst(
            LogLevel::Notice,
            "+failover-state-coordinated-handover",
            r,
            "",
        );
        let m = &mut self.masters[mi];
        m.failover_state = FailoverState::CoordinatedHandover;
        m.failover_state_change_time = self.now;
    }

    /// `coordinated_handover`, on the timer: the deadlines. The outcome itself is seen
    /// in INFO replies ([`Self::handover_master_info`], the target's `role:master`).
    pub(crate) fn failover_coordinated_handover(&mut self, mi: usize) {
        let m = &self.masters[mi];
        let Some(h) = &m.handover else {
            return;
        };
        let elapsed = self.now as i64 - m.failover_state_change_time as i64;
        let demoted = h.master_state.as_deref() == Some("failover-in-progress");
        if demoted {
            // Redis is telling the target; only Redis can end this safely, so wait a
            // failover-timeout longer than for a master still waiting for the sync.
            if elapsed > (m.failover_timeout_ms + h.timeout_ms + HANDOVER_GRACE_MS) as i64 {
                self.abort_handover(mi, "-failover-abort-coordinated-timeout");
            }
        } else if elapsed > (h.timeout_ms + HANDOVER_GRACE_MS) as i64 {
            self.abort_handover(mi, "-failover-abort-coordinated-timeout");
        }
    }

    /// An INFO reply of master record `mi` to request `req`: during the handover, note
    /// `master_failover_state` (`+master-failover-state` on a change) and abort when the
    /// master is a master again with no failover running. Replies to requests sent
    /// before the transaction describe the master before it and are ignored.
    pub(crate) fn handover_master_info(&mut self, mi: usize, req: ReqId, text: &str) {
        let m = &self.masters[mi];
        let Some(h) = &m.handover else {
            return;
        };
        if m.failover_state != FailoverState::CoordinatedHandover
            || h.first_info.is_none_or(|first| req < first)
            || self.tilt
        {
            return;
        }
        let state = text
            .split("\r\n")
            .find_map(|l| l.strip_prefix("master_failover_state:"))
            .unwrap_or("no-failover")
            .to_string();
        let is_master = text.split("\r\n").any(|l| l.starts_with("role:master"));
        let timeout = h.timeout_ms;
        if h.master_state.as_deref() != Some(state.as_str()) {
            if let Some(h) = self.masters[mi].handover.as_mut() {
                h.master_state = Some(state.clone());
            }
            self.emit_inst(
                LogLevel::Notice,
                "+master-failover-state",
                Inst::Master(mi),
                &state,
            );
        }
        if !is_master && state == "no-failover" {
            // Demoted and done: the target took over. Lift the pause at once (the
            // switch may close this connection before the usual `CLIENT UNPAUSE`
            // is written), so the paused writes fail over to the new master now.
            self.handover_done(mi);
        }
        if is_master && state == "no-failover" {
            let elapsed = self
                .now
                .saturating_sub(self.masters[mi].failover_state_change_time);
            let why = if elapsed >= timeout {
                "-failover-abort-coordinated-timeout"
            } else {
                "-failover-abort-coordinated-refused"
            };
            self.abort_handover(mi, why);
        }
    }

    /// The target reported `role:master`: the old master is already its replica, so
    /// lift the explicit write pause there (harmless on a replica, which refuses writes
    /// anyway) before the failover ends as usual.
    pub(crate) fn handover_done(&mut self, mi: usize) {
        match self.masters[mi].handover.as_mut() {
            Some(h) if !h.unpaused => h.unpaused = true,
            _ => return,
        }
        let args = self.command(mi, "CLIENT", &["UNPAUSE"]);
        self.send_cmd(Inst::Master(mi), Request::Ignored, args);
    }

    /// A new command connection to replica `i`: if it is the old master of the
    /// coordinated failover that just switched, lift the pause there now. Its clients'
    /// writes held by the pause then get `-READONLY` and go find the new master, instead
    /// of waiting for the pause to run out.
    pub(crate) fn unpause_old_master(&mut self, i: Inst) {
        let Inst::Replica(mi, _) = i else {
            return;
        };
        let c = self.common(i);
        let abort = match &self.masters[mi].unpause_after_switch {
            Some((h, p, abort)) if *h == c.host && *p == c.port => *abort,
            _ => return,
        };
        self.masters[mi].unpause_after_switch = None;
        if abort {
            let args = self.command(mi, "FAILOVER", &["ABORT"]);
            self.send_cmd(i, Request::Ignored, args);
        }
        let args = self.command(mi, "CLIENT", &["UNPAUSE"]);
        self.send_cmd(i, Request::Ignored, args);
    }

    /// Give up the handover: emit `event` and, unless the master already demoted
    /// itself, `FAILOVER ABORT` (an error when Redis already gave up, ignored) and
    /// `CLIENT UNPAUSE`, so the old master goes on as the master, writable.
    fn abort_handover(&mut self, mi: usize, event: &str) {
        self.undo_handover(mi);
        self.emit_inst(LogLevel::Warning, event, Inst::Master(mi), "");
        self.abort_failover(mi);
    }

    /// Tell the old master to stay the master: `FAILOVER ABORT` unless it already
    /// demoted itself, then `CLIENT UNPAUSE`. Only once the transaction went out.
    pub(crate) fn undo_handover(&mut self, mi: usize) {
        if self.masters[mi].failover_state != FailoverState::CoordinatedHandover {
            return;
        }
        let demoted = self.handover_demoted(mi);
        let master = Inst::Master(mi);
        if !demoted {
            let args = self.command(mi, "FAILOVER", &["ABORT"]);
            self.send_cmd(master, Request::Ignored, args);
        }
        let args = self.command(mi, "CLIENT", &["UNPAUSE"]);
        self.send_cmd(master, Request::Ignored, args);
    }

    /// A peer's newer configuration moves master `mi` elsewhere during our handover:
    /// release the old master now and, since the switch closes its connection before
    /// that may be written, again on its first connection as a replica.
    pub(crate) fn undo_handover_before_switch(&mut self, mi: usize) {
        if self.masters[mi].failover_state != FailoverState::CoordinatedHandover {
            return;
        }
        let abort = !self.handover_demoted(mi);
        self.undo_handover(mi);
        let c = &self.masters[mi].common;
        let old = (c.host.clone(), c.port, abort);
        self.masters[mi].unpause_after_switch = Some(old);
    }

    /// Announce the handover on [`super::monitor::HANDOVER_CHANNEL`] before the
    /// transaction pauses the master (a `PUBLISH` would then wait): observing rsentinels
    /// hold their proxies' traffic too and move their connections at the switch (issue
    /// #11). `true` once the transaction may go: nobody heard the notice, or those who
    /// did had [`NOTICE_LEAD_MS`] to stop forwarding (what their proxies sent before
    /// reaches the master before the pause), or its reply never came.
    fn handover_announced(&mut self, mi: usize, timeout: u64) -> bool {
        let Some((sent, heard)) = self.masters[mi].handover_notice else {
            let m = &self.masters[mi];
            let notice = format!(
                "{},{},{},{},{},{}",
                self.myid,
                m.common.name,
                m.failover_epoch,
                self.announced_addr(&m.common),
                m.common.port,
                timeout + HANDOVER_GRACE_MS,
            );
            let channel = super::monitor::HANDOVER_CHANNEL;
            let args = self.command(mi, "PUBLISH", &[channel, &notice]);
            if self.send_cmd(Inst::Master(mi), Request::HandoverNotice, args) {
                self.masters[mi].handover_notice = Some((self.now, None));
            }
            return false;
        };
        let waited = self.now.saturating_sub(sent);
        match heard {
            Some(0) => true,
            Some(_) => waited >= NOTICE_LEAD_MS,
            None => waited >= HANDOVER_GRACE_MS,
        }
    }

    /// The reply to our handover notice: with no listener the transaction goes at once.
    pub(crate) fn on_handover_notice_reply(&mut self, i: Inst, reply: &crate::resp::Reply) {
        let Inst::Master(mi) = i else { return };
        let heard = match reply {
            crate::resp::Reply::Int(n) => *n,
            _ => 0,
        };
        if let Some((_, h)) = self.masters[mi].handover_notice.as_mut() {
            *h = Some(heard);
        }
        if heard == 0 && self.masters[mi].failover_state == FailoverState::SendFailoverTo {
            self.failover_state_machine(mi);
        }
    }

    /// A notice on [`super::monitor::HANDOVER_CHANNEL`]:
    /// `<runid>,<master>,<epoch>,<ip>,<port>,<pause ms>`. Another sentinel is about to
    /// hand master `<master>` at `<ip>:<port>` over under `<epoch>`: hold our proxy's
    /// traffic until the switch (or the pause's end), and move its connections at a
    /// switch to that epoch. Notices about another address, an epoch we already have,
    /// or from ourselves are ignored.
    pub(crate) fn on_handover_notice(&mut self, payload: &[u8]) {
        let Ok(text) = std::str::from_utf8(payload) else {
            return;
        };
        let f: Vec<&str> = text.split(',').collect();
        let [runid, name, epoch, ip, port, pause] = f[..] else {
            return;
        };
        let (Ok(epoch), Ok(port), Ok(pause)) = (
            epoch.parse::<u64>(),
            port.parse::<u16>(),
            pause.parse::<u64>(),
        ) else {
            return;
        };
        if runid == self.myid {
            return;
        }
        let Some(mi) = self.masters.iter().position(|m| m.common.name == name) else {
            return;
        };
        let m = &self.masters[mi];
        if m.config_epoch >= epoch
            || m.common.port != port
            || !self.addr_matches_host(&m.common, ip)
        {
            return;
        }
        let until = self.now + pause.min(MAX_HANDOVER_TIMEOUT_MS + HANDOVER_GRACE_MS);
        self.masters[mi].peer_handover = Some(PeerHandover { epoch, until });
    }

    fn handover_demoted(&self, mi: usize) -> bool {
        self.masters[mi]
            .handover
            .as_ref()
            .is_some_and(|h| h.master_state.as_deref() == Some("failover-in-progress"))
    }
}
