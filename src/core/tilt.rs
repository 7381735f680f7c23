//! TILT: protection against clock jumps and process stalls.
//!
//! Every timer run compares `now` with the previous run. A jump backwards, or a gap
//! longer than the TILT trigger, means timers measured across it are meaningless, so
//! for TILT-PERIOD the core keeps monitoring but stops judging (no SDOWN/ODOWN, no
//! failovers, no INFO-driven repairs) and answers "not down" to peers.

use super::Sentinel;
use crate::config::LogLevel;
use crate::core::Action;

impl Sentinel {
    /// First step of every timer run.
    pub(crate) fn check_tilt(&mut self) {
        let now = self.now;
        let prev = self.previous_time;
        let delta = now as i128 - prev as i128;
        if delta < 0 || delta > self.timing.tilt_trigger as i128 {
            self.tilt = true;
            self.tilt_start_time = now;
            self.total_tilt += 1;
            self.emit(
                LogLevel::Warning,
                "+tilt",
                super::events::Subject::None,
                "#tilt mode entered",
            );
            // Not in redis-sentinel: users asked to be told why TILT triggered.
            let text = if delta < 0 {
                format!(
                    "TILT triggered: the clock jumped backwards by {} ms",
                    -delta
                )
            } else {
                format!(
                    "TILT triggered: {} ms passed between two timer runs (limit {} ms)",
                    delta, self.timing.tilt_trigger
                )
            };
            self.push(Action::Log {
                level: LogLevel::Warning,
                text,
            });
        }
        self.previous_time = now;
    }

    /// Gate of the acting half of each instance: false while in TILT; ends TILT (with
    /// `-tilt`) once TILT-PERIOD has passed since it was last (re)entered.
    pub(crate) fn tilt_allows_acting(&mut self) -> bool {
        if !self.tilt {
            return true;
        }
        if self.now.saturating_sub(self.tilt_start_time) < self.timing.tilt_period {
            return false;
        }
        self.tilt = false;
        self.emit(
            LogLevel::Warning,
            "-tilt",
            super::events::Subject::None,
            "#tilt mode exited",
        );
        true
    }
}
