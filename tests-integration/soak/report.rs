//! What one seed of the soak produced and how it is judged, and the sentinels' log
//! files read back (attempts, elections, switches).

use super::CONVERGE;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// What one seed produced.
#[derive(Default)]
pub(super) struct Report {
    /// config epoch -> address -> sentinels seen holding it.
    pub(super) views: BTreeMap<u64, BTreeMap<String, BTreeSet<usize>>>,
    /// epoch -> (sentinel, elected after its attempt was overtaken).
    pub(super) leaders: BTreeMap<u64, Vec<(usize, bool)>>,
    pub(super) switches: usize,
    pub(super) faults: Vec<String>,
    pub(super) converged: Option<Duration>,
    pub(super) final_view: String,
    pub(super) real: Vec<bool>,
    pub(super) problems: Vec<String>,
    /// Peak RSS (KiB) and fd count seen on any rsentinel process (issue #15).
    pub(super) peak_rss_kib: u64,
    pub(super) peak_fds: usize,
    /// The Sentinel-aware writer: INCRs acknowledged, and failed attempts.
    pub(super) writes_acked: u64,
    pub(super) write_errors: u64,
    /// The advertised-non-master check's summary, and what the relays saw.
    pub(super) advert: String,
    pub(super) periods: Vec<String>,
    pub(super) links: String,
    /// Reported, not failed: real redis-sentinel over the advertised-address bound.
    pub(super) reported: Vec<String>,
    /// Where a failing run's sentinel logs were kept.
    pub(super) kept: Option<std::path::PathBuf>,
}

impl Report {
    /// Epochs whose election a redis-sentinel won after being overtaken.
    fn flawed_epochs(&self) -> BTreeSet<u64> {
        self.leaders
            .iter()
            .filter(|(_, ls)| ls.iter().any(|&(s, over)| over && self.real[s]))
            .map(|(e, _)| *e)
            .collect()
    }

    fn conflicts(&self) -> Vec<(u64, &BTreeMap<String, BTreeSet<usize>>)> {
        self.views
            .iter()
            .filter(|(e, addrs)| **e > 0 && addrs.len() > 1)
            .map(|(e, a)| (*e, a))
            .collect()
    }

    pub(super) fn failure(&self) -> Option<String> {
        let flawed = self.flawed_epochs();
        let mut out = self.problems.clone();
        for (e, ls) in &self.leaders {
            for &(s, over) in ls {
                if over && !self.real[s] {
                    out.push(format!(
                        "rsentinel {s} elected in epoch {e} after being overtaken"
                    ));
                }
            }
            if ls.len() > 1 && !flawed.contains(e) {
                out.push(format!("two leaders in epoch {e}: {ls:?}"));
            }
        }
        for (e, addrs) in self.conflicts() {
            if !flawed.contains(&e) {
                out.push(format!("config epoch {e} names {addrs:?}"));
            }
        }
        if self.converged.is_none() && flawed.is_empty() {
            out.push(format!(
                "no convergence within {CONVERGE:?} of healing: {}",
                self.final_view
            ));
        }
        (!out.is_empty()).then(|| out.join("; "))
    }

    pub(super) fn summary(&self) -> String {
        let flawed = self.flawed_epochs();
        format!(
            "{} faults, {} +switch-master, epochs {:?}, leaders {:?}, conflicts {}, {}{}{}",
            self.faults.len(),
            self.switches,
            self.views.keys().collect::<Vec<_>>(),
            self.leaders,
            self.conflicts().len(),
            match self.converged {
                Some(d) => format!("converged {:.1} s after healing", d.as_secs_f64()),
                None => format!("NOT converged: {}", self.final_view),
            },
            if flawed.is_empty() {
                String::new()
            } else {
                format!(", redis-sentinel flaw in epochs {flawed:?}")
            } + &format!(
                ", rsentinel peak RSS {} KiB, peak fds {}, writes acked {} (failed attempts {}), \
                 {}, {}{}",
                self.peak_rss_kib,
                self.peak_fds,
                self.writes_acked,
                self.write_errors,
                self.advert,
                self.links,
                if self.reported.is_empty() {
                    String::new()
                } else {
                    format!(", REPORTED: {:?}", self.reported)
                }
            ),
            match self.failure() {
                Some(f) => format!(" => FAIL: {f} (logs in {:?})", self.kept),
                None => " => ok".into(),
            }
        )
    }
}

impl super::Soak {
    /// Attempts, elections and switches from every sentinel's log file (appended to
    /// across restarts).
    pub(super) fn read_logs(&mut self) {
        for (i, s) in self.sentinels.iter().enumerate() {
            let log = std::fs::read_to_string(s.proc_.dir.join("sentinel.log")).unwrap_or_default();
            let mut last_epoch = 0u64;
            // (attempt epoch, overtaken since)
            let mut attempt: Option<(u64, bool)> = None;
            for line in log.lines() {
                if line.contains("Redis is starting") {
                    attempt = None;
                    continue;
                }
                let mut toks = line
                    .split_whitespace()
                    .skip_while(|t| !(t.starts_with('+') || t.starts_with('-')) || t.len() < 2);
                let Some(ev) = toks.next() else { continue };
                match ev {
                    "+new-epoch" => {
                        last_epoch = toks.next().and_then(|t| t.parse().ok()).unwrap_or(0);
                        if let Some((e, over)) = attempt.as_mut() {
                            *over |= last_epoch > *e;
                        }
                    }
                    "+try-failover" => attempt = Some((last_epoch, false)),
                    "+elected-leader" => {
                        if let Some((e, over)) = attempt {
                            self.report.leaders.entry(e).or_default().push((i, over));
                        } else {
                            self.report
                                .problems
                                .push(format!("sentinel {i}: +elected-leader without attempt"));
                        }
                    }
                    "+failover-end" => attempt = None,
                    "+switch-master" => self.report.switches += 1,
                    e if e.starts_with("-failover-abort") => attempt = None,
                    _ => {}
                }
            }
        }
    }
}
