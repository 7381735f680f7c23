//! Failure detection: link-health closes, subjective (SDOWN) and objective (ODOWN)
//! down states.
//!
//! SDOWN is this sentinel's own opinion, from PING replies and INFO; ODOWN is SDOWN plus
//! enough peers saying "down" in their recent is-master-down-by-addr replies.

use super::Sentinel;
use super::instance::*;
use super::monitor::Inst;
use crate::config::LogLevel;

impl Sentinel {
    /// How long the instance has been unavailable: since the oldest unanswered PING,
    /// or since the last valid reply while disconnected.
    pub fn ping_elapsed(&self, i: Inst) -> u64 {
        let l = self.link_of(i);
        if l.act_ping_time != 0 {
            self.now.saturating_sub(l.act_ping_time)
        } else if l.disconnected() {
            self.now.saturating_sub(l.last_avail_time)
        } else {
            0
        }
    }

    /// Close connections that look open but are dead (§4.4), then update SDOWN.
    pub(crate) fn check_sdown(&mut self, i: Inst) {
        let now = self.now;
        let elapsed = self.ping_elapsed(i);
        let c = self.common(i);
        let down_after = c.down_after_ms;
        let l = self.link_of(i);
        let min_age = self.timing.min_link_reconnect_period;
        let (id, cc, pc) = (l.id, l.cc, l.pc);
        if cc
            && now.saturating_sub(l.cc_conn_time) > min_age
            && l.act_ping_time != 0
            && now.saturating_sub(l.act_ping_time) > down_after / 2
            && now.saturating_sub(l.last_pong_time) > down_after / 2
        {
            self.close_conn(id, ConnKind::Cmd);
        }
        let l = self.link_of(i);
        if pc
            && now.saturating_sub(l.pc_conn_time) > min_age
            && now.saturating_sub(l.pc_last_activity) > self.timing.publish_period * 3
        {
            self.close_conn(id, ConnKind::PubSub);
        }

        let c = self.common(i);
        let mut down = elapsed > down_after;
        if let Inst::Master(mi) = i {
            let m = &self.masters[mi];
            down = down
                || (c.role_reported == Role::Slave
                    && now.saturating_sub(c.role_reported_time)
                        > down_after + self.timing.info_period * 2)
                || (c.flags & flags::MASTER_REBOOT != 0
                    && now.saturating_sub(m.master_reboot_since)
                        > m.master_reboot_down_after_period_ms);
        }
        let is_down = c.flags & flags::S_DOWN != 0;
        if down && !is_down {
            self.emit_inst(LogLevel::Warning, "+sdown", i, "");
            let c = self.common_mut(i);
            c.s_down_since = now;
            c.flags |= flags::S_DOWN;
        } else if !down && is_down {
            self.emit_inst(LogLevel::Warning, "-sdown", i, "");
            self.common_mut(i).flags &= !(flags::S_DOWN | flags::SCRIPT_KILL_SENT);
        }
    }

    /// ODOWN: SDOWN here and at least `quorum` sentinels (us included) agreeing.
    pub(crate) fn check_odown(&mut self, mi: usize) {
        let m = &self.masters[mi];
        let mut count = 0u32;
        let mut odown = false;
        if m.common.flags & flags::S_DOWN != 0 {
            count = 1 + m
                .sentinels
                .iter()
                .filter(|s| s.common.flags & flags::MASTER_DOWN != 0)
                .count() as u32;
            odown = count >= m.quorum;
        }
        let was = m.common.flags & flags::O_DOWN != 0;
        let quorum = m.quorum;
        let i = Inst::Master(mi);
        if odown && !was {
            self.emit_inst(
                LogLevel::Warning,
                "+odown",
                i,
                &format!("#quorum {count}/{quorum}"),
            );
            let c = &mut self.masters[mi].common;
            c.flags |= flags::O_DOWN;
            c.o_down_since = self.now;
        } else if !odown && was {
            self.emit_inst(LogLevel::Warning, "-odown", i, "");
            self.masters[mi].common.flags &= !flags::O_DOWN;
        }
    }
}
