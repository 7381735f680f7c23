//! Starting a failover attempt (SENTINEL.md §7.1) and counting who won the leader
//! election for it (§6.3).
//!
//! An attempt only starts for an ODOWN master and at most once per 2 × failover-timeout
//! (measured from the last attempt's start time, which a vote for another sentinel also
//! moves), so that normally a single sentinel of the group tries. The leader is the
//! candidate holding an absolute majority of all *known* sentinels and at least `quorum`
//! votes; this sentinel's own vote is cast while counting.

use super::Sentinel;
use super::instance::*;
use crate::config::LogLevel;
use crate::core::Action;
use rand::Rng;

impl Sentinel {
    /// Start an attempt for master `mi` if it is ODOWN, none is running and the throttle
    /// allows it. Returns true when one was started: the caller then forces a round of
    /// is-master-down queries, which carry our vote request.
    ///
    /// While throttled, `Next failover delay: ...` is logged once per attempt start time
    /// (redis-sentinel keeps it quiet on every following tick).
    pub(crate) fn start_failover_if_needed(&mut self, mi: usize) -> bool {
        let m = &self.masters[mi];
        if m.common.flags & flags::O_DOWN == 0 || m.common.flags & flags::FAILOVER_IN_PROGRESS != 0
        {
            return false;
        }
        let throttle = m.failover_timeout_ms as i64 * 2;
        // The start time may lie up to a second in the future (random desync).
        if (self.now as i64) - (m.failover_start_time as i64) < throttle {
            if m.failover_delay_logged != m.failover_start_time {
                let not_before = (m.failover_start_time as i64 + throttle) / 1000;
                let when = format_ctime(not_before, self.utc_offset_secs);
                self.masters[mi].failover_delay_logged = self.masters[mi].failover_start_time;
                self.push(Action::Log {
                    level: LogLevel::Warning,
                    text: format!("Next failover delay: I will not start a failover before {when}"),
                });
            }
            return false;
        }
        self.start_failover(mi);
        true
    }

    /// The leader of master `mi`'s election for `epoch`, if any, casting our own vote on
    /// the way (for the candidate most voted by peers, else for ourselves; always for
    /// ourselves during a forced failover, see below).
    ///
    /// Peer votes count only when reported for `epoch` itself; ties go to the candidate
    /// seen first. The winner needs ⌊voters/2⌋+1 votes, voters being every known
    /// sentinel (reachable or not) plus us, and at least `quorum` votes.
    ///
    /// Deliberate deviation (redis/redis#11571, PR #2230): redis-sentinel counts the
    /// peers' votes of its *current* epoch but its own vote and the failover it then
    /// runs belong to `epoch`. Once a hello or a vote request has moved the current
    /// epoch past `epoch`, it collects votes of the newer epoch and is elected for the
    /// older one, which another sentinel may already have won: two promotions under one
    /// config epoch that no hello can ever settle. Every sentinel votes once per epoch,
    /// so counting only votes cast *for `epoch`* makes a second winner impossible.
    ///
    /// A forced failover (SENTINEL FAILOVER) does not need the election, but redis
    /// would still give our vote for its epoch to the peer most voted in it, helping a
    /// second sentinel to promote under the same epoch; it keeps the vote for itself.
    pub(super) fn get_leader(&mut self, mi: usize, epoch: u64) -> Option<String> {
        let upstream = self.upstream_election;
        let counted = if upstream { self.current_epoch } else { epoch };
        let m = &self.masters[mi];
        let voters = m.sentinels.len() as u64 + 1;
        let mut counters = peer_votes(m, counted);
        let (mut winner, mut max_votes) = (None, 0);
        for (cand, votes) in &counters {
            if *votes > max_votes {
                max_votes = *votes;
                winner = Some(cand.clone());
            }
        }
        let forced =
            m.common.flags & flags::FORCE_FAILOVER != 0 && m.failover_epoch == epoch && !upstream;
        let candidate = match &winner {
            Some(w) if !forced => w.clone(),
            _ => self.myid.clone(),
        };
        let (myvote, vote_epoch) = self.vote_leader(mi, epoch, &candidate);
        if let Some(v) = myvote.filter(|_| vote_epoch == epoch) {
            let votes = incr(&mut counters, &v);
            if votes > max_votes {
                max_votes = votes;
                winner = Some(v);
            }
        }
        let quorum = self.masters[mi].quorum as u64;
        // An absolute majority (⌊voters/2⌋+1 or more) and at least `quorum`.
        winner.filter(|_| max_votes > voters / 2 && max_votes >= quorum)
    }
}

impl Sentinel {
    /// Whether the election for master `mi` in `epoch` can no longer be won: enough
    /// voters reported their vote in `epoch` (ours for ourselves among them) that no
    /// candidate can reach a majority even with every vote still unknown. Typically
    /// every candidate started in the same epoch and voted for itself.
    pub(super) fn election_split(&self, mi: usize, epoch: u64) -> bool {
        let m = &self.masters[mi];
        let ours = m.leader_epoch == epoch
            && m.leader
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case(&self.myid));
        if !ours {
            return false;
        }
        let voters = m.sentinels.len() as u64 + 1;
        let mut counters = peer_votes(m, epoch);
        incr(&mut counters, &self.myid);
        let reported: u64 = counters.iter().map(|(_, n)| *n).sum();
        let best = counters.iter().map(|(_, n)| *n).max().unwrap_or(0);
        best + (voters - reported) <= voters / 2
    }

    /// After a split election, retry within `MAX_DESYNC_MS` (random) instead of
    /// 2 x failover-timeout later (rsentinel's rules only). The split candidates abort
    /// together; their redrawn, different delays make the first to retry the only
    /// candidate of the next epoch, and the others' votes are free again by then (the
    /// vote hold ends with the election timeout that aborted them). redis-sentinel
    /// retries in step, and so can split again, minutes apart.
    pub(super) fn retry_split_election(&mut self, mi: usize) {
        let throttle = self.masters[mi].failover_timeout_ms * 2;
        let jitter = self.rng.gen_range(0..super::vote::MAX_DESYNC_MS);
        let m = &mut self.masters[mi];
        m.failover_start_time = (self.now + jitter).saturating_sub(throttle);
    }
}

/// The votes peers reported for master `m`'s election in `epoch`, per candidate, in the
/// order first seen.
fn peer_votes(m: &Master, epoch: u64) -> Vec<(String, u64)> {
    let mut counters = Vec::new();
    for s in &m.sentinels {
        if let Some(l) = s.leader.as_ref().filter(|_| s.leader_epoch == epoch) {
            incr(&mut counters, l);
        }
    }
    counters
}

/// Add one vote for `who`; returns its new count.
fn incr(counters: &mut Vec<(String, u64)>, who: &str) -> u64 {
    match counters.iter_mut().find(|(c, _)| c == who) {
        Some((_, n)) => {
            *n += 1;
            *n
        }
        None => {
            counters.push((who.to_string(), 1));
            1
        }
    }
}

/// C `ctime()` without the trailing newline (`Sat Nov 21 22:32:39 2026`) for a unix
/// time in seconds, shifted by `utc_offset_secs` to stand in for the local time zone
/// (the pure core cannot consult the system's zone database).
pub fn format_ctime(unix_secs: i64, utc_offset_secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = unix_secs + utc_offset_secs;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(mo - 1) as usize],
        d,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        y
    )
}

/// Proleptic Gregorian (year, month 1-12, day 1-31) of a day count since 1970-01-01
/// (Howard Hinnant's days-to-civil algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
