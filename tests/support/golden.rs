//! The captures of real redis-sentinel 7.0.15 the tests compare with, and readers for
//! their formats. They live in `tests/golden/` (see its README) so that a clone
//! anywhere carries them; every path is built from the crate root.

use std::path::PathBuf;

/// `tests/golden/` of this checkout.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(ROOT).join(rel)
}

pub fn bytes(rel: &str) -> Vec<u8> {
    let p = path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn text(rel: &str) -> String {
    String::from_utf8(bytes(rel)).expect("golden text is UTF-8")
}

/// A reply capture of the RESP transcripts (`resp/<phase>/<file>`).
pub fn resp(file: &str) -> Vec<u8> {
    bytes(&format!("resp/{file}"))
}

/// The bulk strings of a golden `.resp` file, in order, whatever frames hold them.
pub fn bulks(rel: &str) -> Vec<String> {
    super::resp::parse_all(&bytes(rel))
        .iter()
        .flat_map(super::resp::V::bulks)
        .collect()
}

/// `(connection, command line, reply file)` for every block of a phase transcript.
pub fn transcript(phase: &str) -> Vec<(String, String, String)> {
    text(&format!("resp/{phase}.transcript.txt"))
        .lines()
        .filter_map(|l| l.strip_prefix(">>> ["))
        .map(|l| {
            let (conn, rest) = l.split_once("] ").unwrap();
            let (cmd, file) = rest.rsplit_once("(file ").unwrap();
            (
                conn.to_string(),
                cmd.trim().to_string(),
                file.trim_end_matches(')').to_string(),
            )
        })
        .collect()
}

/// The reply file of `phase` whose name starts with `prefix` (exactly one must).
pub fn resp_file(phase: &str, prefix: &str) -> Vec<u8> {
    let dir = path(&format!("resp/{phase}"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    assert_eq!(names.len(), 1, "{prefix} in {phase}: {names:?}");
    std::fs::read(dir.join(&names[0])).unwrap()
}

/// `<unix_ms> <channel> <payload>` lines of a golden events file, as "channel payload".
pub fn events(rel: &str) -> Vec<String> {
    text(rel)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest.to_string()))
        .collect()
}

/// The `pmessage * <channel> <payload>` records of a golden redis-cli psubscribe dump.
pub fn psubscribe(rel: &str) -> Vec<String> {
    let text = text(rel);
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

/// The text of every line of a golden sentinel log
/// (`<pid>:X <d> <mon> <year> <time> <level> <text>`).
pub fn log_lines(rel: &str) -> Vec<String> {
    text(rel)
        .lines()
        .filter_map(|l| l.splitn(7, ' ').nth(6).map(str::to_string))
        .collect()
}

/// The `+`/`-` event lines of a golden sentinel log, as "channel payload" (plain log
/// lines such as "Sentinel new configuration saved on disk" are dropped).
pub fn log_events(rel: &str) -> Vec<String> {
    log_lines(rel)
        .into_iter()
        .filter(|t| t.starts_with(['+', '-']))
        .collect()
}
