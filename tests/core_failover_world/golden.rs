//! Readers for the golden captures the failover tests compare with.

use super::GOLDEN;

/// `<unix_ms> <channel> <payload>` lines of a golden events file, as "channel payload".
pub fn golden_events(path: &str) -> Vec<String> {
    std::fs::read_to_string(format!("{GOLDEN}/{path}"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest.to_string()))
        .collect()
}

/// The `pmessage * <channel> <payload>` records of a golden redis-cli psubscribe dump.
pub fn golden_psubscribe(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(format!("{GOLDEN}/{path}")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] == "pmessage" && i + 3 < lines.len() {
            out.push(format!("{} {}", lines[i + 2], lines[i + 3]));
            i += 4;
        } else {
            i += 1;
        }
    }
    out
}

/// The `# `/`* ` event lines of a golden sentinel log, as "channel payload" (plain log
/// lines such as "Sentinel new configuration saved on disk" are dropped).
pub fn golden_log_events(path: &str) -> Vec<String> {
    std::fs::read_to_string(format!("{GOLDEN}/{path}"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            // `<pid>:X <d> <mon> <year> <time> <level> <text>`
            let text = l.splitn(7, ' ').nth(6)?;
            text.starts_with(['+', '-']).then(|| text.to_string())
        })
        .collect()
}
