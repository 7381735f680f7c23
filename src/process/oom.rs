//! `oom-score-adj`: tell the kernel's OOM killer how to rank the sentinel, as Redis'
//! setOOMScoreAdj does at start-up (a sentinel is always in the `master` class, the
//! first of `oom-score-adj-values`). Operators raise or lower it so that under memory
//! pressure the data nodes and the sentinel that watches them are not lost together.

use crate::config::strerror;

/// The value to write for `mode` (`relative`/`yes` add `base`, the score the process
/// started with; `absolute` takes `value` as is), clamped to the kernel's range; `None`
/// for `no`.
pub fn target(mode: &str, value: i64, base: i64) -> Option<i64> {
    let v = match mode {
        "absolute" => value,
        "yes" | "relative" => value + base,
        _ => return None,
    };
    Some(v.clamp(-1000, 1000))
}

/// Apply `oom-score-adj` to this process: the warning to log on failure.
pub fn apply(mode: &str, value: i64) -> Option<String> {
    const PATH: &str = "/proc/self/oom_score_adj";
    // `no`: the score is left as it is.
    target(mode, 0, 0)?;
    let base = match std::fs::read_to_string(PATH) {
        Ok(text) => i64::from(crate::config::atoi(&text)),
        Err(e) => return Some(format!("Unable to read oom_score_adj: {}", strerror(&e))),
    };
    let v = target(mode, value, base)?;
    std::fs::write(PATH, format!("{v}\n"))
        .err()
        .map(|e| format!("Unable to write oom_score_adj: {}", strerror(&e)))
}
