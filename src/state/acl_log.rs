//! `ACL LOG`: the recent refusals (failed AUTH/HELLO AUTH, commands and channels a user
//! may not use), as Redis keeps them. An operator who locks a sentinel down with ACL
//! users reads this to see which client was refused and why; it is empty only when
//! nothing was.
//!
//! Similar refusals are grouped as in Redis' `addACLLogEntry`: the same reason, context,
//! object and user within 60 s of the entry's last update bump its count (and refresh its
//! time and client) instead of adding a line, looking at the 10 newest entries only.

use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Why an entry was logged (`reason` in the reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Command,
    Channel,
    Auth,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub count: u64,
    pub reason: Reason,
    /// The command's full name, the channel, or for `auth` the command as typed.
    pub object: Bytes,
    pub username: Bytes,
    /// The last refusal counted here (monotonic: `age-seconds` is all that shows).
    pub at: Instant,
    /// The client's `CLIENT LIST` line at that refusal.
    pub client_info: String,
}

/// Refusals within this long of an entry are grouped into it.
const GROUPING: Duration = Duration::from_secs(60);
/// How many of the newest entries are looked at for grouping.
const GROUPING_SCAN: usize = 10;

/// Newest first.
#[derive(Debug, Default)]
pub struct AclLog {
    entries: VecDeque<Entry>,
}

impl AclLog {
    /// Record a refusal; `max_len` is `acllog-max-len` (0 keeps nothing).
    pub fn add(&mut self, e: Entry, max_len: usize) {
        let similar = self.entries.iter().take(GROUPING_SCAN).position(|x| {
            x.reason == e.reason
                && x.at.max(e.at).duration_since(x.at.min(e.at)) <= GROUPING
                && x.object == e.object
                && x.username == e.username
        });
        match similar.and_then(|i| self.entries.remove(i)) {
            Some(mut x) => {
                x.count += 1;
                x.at = e.at;
                x.client_info = e.client_info;
                self.entries.push_front(x);
            }
            None => {
                self.entries.push_front(e);
                self.entries.truncate(max_len);
            }
        }
    }

    /// The `count` newest entries.
    pub fn newest(&self, count: usize) -> impl Iterator<Item = &Entry> {
        self.entries.iter().take(count)
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }
}
