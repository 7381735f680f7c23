//! What the test modules share: the golden captures, the RESP test client, the
//! single-core fixture, an in-process server, and small helpers.

pub mod fixture;
pub mod golden;
pub mod resp;
pub mod server;

use bytes::Bytes;
use rsentinel::core::Event;
use rsentinel::links::LinkEvents;
use std::time::Duration;

/// The run ids of s1, s2, s3 in the golden captures.
pub const IDS: [&str; 3] = [
    "f9351bc32a024bcd4d518040ae807e61bcbe50b5",
    "11cee6dfd73f0ef21cc15b3e7c14074dd44c7ddb",
    "cbc2f454bb1f7b019a27bd6c7f8cda554f7504d6",
];

/// A wall-clock start in the golden captures' era (2026), in unix milliseconds.
pub const T0: u64 = 1_795_300_000_000;

/// The seed of a fuzzing test: `ROBUST_SEED` replaces the fixed one, to explore beyond
/// what CI runs.
pub fn robust_seed(default: u64) -> u64 {
    std::env::var("ROBUST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Command arguments as the links and the command layer take them.
pub fn bytes_args(a: &[&str]) -> Vec<Bytes> {
    a.iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}

/// Next accepted link event (stale ones are filtered as the runtime would).
pub async fn next_link_event(events: &mut LinkEvents) -> Event {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("event within 5s")
            .expect("channel open");
        if let Some(ev) = events.accept(ev) {
            return ev;
        }
    }
}

/// Every file under `p` (or `p` itself if it is a file), in sorted order so reports are
/// stable from run to run.
pub fn files_under(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![p.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(&p)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            stack.extend(entries.into_iter().rev());
        } else {
            out.push(p);
        }
    }
    out
}
