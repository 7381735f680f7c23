//! Replica selection for promotion (SENTINEL.md §7.4), used by SENTINEL FAILOVER (to
//! refuse with `-NOGOODSLAVE` up front) and by the failover's `select_slave` state.

use super::Sentinel;
use super::instance::*;
use std::cmp::Ordering;

impl Sentinel {
    /// The best replica of master `master` to promote as of the last input's `now`
    /// (index into its `replicas`), or `None` if no replica qualifies.
    ///
    /// A candidate must be up from our point of view, recently healthy, have a non-zero
    /// priority, fresh INFO and a replication link that has not been down for much longer
    /// than the master itself. Unannounced replicas still qualify.
    pub fn select_replica(&self, master: usize) -> Option<usize> {
        let m = &self.masters[master];
        let now = self.now as i64;
        let master_sdown = m.common.flags & flags::S_DOWN != 0;
        let mut max_master_down = 0i64;
        if master_sdown {
            max_master_down += now - m.common.s_down_since as i64;
        }
        max_master_down += m.common.down_after_ms as i64 * 10;
        // With the master down, replicas get INFO every second; otherwise only every
        // INFO-PERIOD, so accept older INFO.
        let info_validity = if master_sdown {
            self.timing.ping_period as i64 * 5
        } else {
            self.timing.info_period as i64 * 3
        };

        let mut candidates: Vec<usize> = Vec::new();
        for (i, r) in m.replicas.iter().enumerate() {
            let c = &r.common;
            if c.flags & (flags::S_DOWN | flags::O_DOWN) != 0 {
                continue;
            }
            let Some(link) = self.links.get(&c.link) else {
                continue;
            };
            if link.disconnected() {
                continue;
            }
            if now - link.last_avail_time as i64 > self.timing.ping_period as i64 * 5 {
                continue;
            }
            if r.priority == 0 {
                continue;
            }
            if now - c.info_refresh as i64 > info_validity {
                continue;
            }
            if r.master_link_down_time as i64 > max_master_down {
                continue;
            }
            candidates.push(i);
        }
        candidates.sort_by(|&a, &b| compare_for_promotion(&m.replicas[a], &m.replicas[b]));
        candidates.first().copied()
    }
}

/// Better first: lower priority, then larger replication offset, then the smaller run id
/// (case-insensitive), an unknown run id sorting last.
fn compare_for_promotion(a: &Replica, b: &Replica) -> Ordering {
    a.priority
        .cmp(&b.priority)
        .then_with(|| b.repl_offset.cmp(&a.repl_offset))
        .then_with(|| {
            let (ra, rb) = (&a.common.runid, &b.common.runid);
            match (ra.is_empty(), rb.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => ra.to_ascii_lowercase().cmp(&rb.to_ascii_lowercase()),
            }
        })
}
