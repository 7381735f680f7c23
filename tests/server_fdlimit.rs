//! The start-up decision about the open-files limit (`server::fdlimit::adjust`, Redis'
//! adjustOpenFilesLimit), branch by branch, against a simulated kernel: a hard limit
//! (raising the soft limit up to it succeeds, beyond it is EPERM).

use rsentinel::config::LogLevel;
use rsentinel::server::fdlimit::{Adjusted, adjust};

const EPERM: i32 = 1;

/// `adjust` with a soft limit of `soft` and a kernel that allows up to `hard`, walking
/// down like Redis (no ceiling given); also returns every value it asked for. The same
/// with the ceiling known must end the same way, asking at most once.
fn run(maxclients: u32, soft: u64, hard: u64) -> (Adjusted, Vec<u64>) {
    let (out, asked) = run_with(maxclients, soft, hard, None);
    let (skipping, asked_once) = run_with(maxclients, soft, hard, Some(hard));
    assert_eq!(out, skipping, "the ceiling changed the outcome");
    assert!(asked_once.len() <= 1, "{asked_once:?}");
    assert!(asked_once.iter().all(|n| asked.contains(n)));
    (out, asked)
}

fn run_with(maxclients: u32, soft: u64, hard: u64, ceiling: Option<u64>) -> (Adjusted, Vec<u64>) {
    let mut asked = Vec::new();
    let out = adjust(
        maxclients,
        || Ok(soft),
        ceiling,
        |n| {
            asked.push(n);
            if n <= hard { Ok(()) } else { Err(EPERM) }
        },
        |e| format!("errno {e}"),
    );
    (out, asked)
}

fn texts(a: &Adjusted) -> Vec<&str> {
    a.log.iter().map(|(_, t)| t.as_str()).collect()
}

#[test]
fn enough_descriptors_change_nothing() {
    let (out, asked) = run(10000, 10032, 10032);
    assert_eq!(
        (out.maxclients, out.fatal, out.log.len()),
        (10000, false, 0)
    );
    assert!(asked.is_empty());
}

#[test]
fn a_soft_limit_below_the_hard_one_is_raised_to_the_need() {
    let (out, asked) = run(10000, 1024, 1 << 20);
    assert_eq!(asked, [10032]);
    assert_eq!(out.maxclients, 10000);
    assert_eq!(
        out.log,
        [(
            LogLevel::Notice,
            "Increased maximum number of open files to 10032 (it was originally set to 1024)."
                .to_string()
        )]
    );
}

#[test]
fn a_hard_limit_below_the_need_lowers_maxclients_to_what_was_reached() {
    // Steps of 16 from 10032: the first at or under 5000 is 4992.
    let (out, asked) = run(10000, 1024, 5000);
    assert_eq!(asked.first(), Some(&10032));
    assert_eq!(asked.last(), Some(&4992));
    assert!(asked.windows(2).all(|w| w[0] - w[1] == 16));
    assert_eq!((out.maxclients, out.fatal), (4960, false));
    assert_eq!(
        texts(&out),
        [
            "You requested maxclients of 10000 requiring at least 10032 max file descriptors.",
            "Server can't set maximum open files to 10032 because of OS error: errno 1.",
            "Current maximum open files is 4992. maxclients has been reduced to 4960 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
        ]
    );
    assert!(out.log.iter().all(|(l, _)| *l == LogLevel::Warning));
}

#[test]
fn no_raise_at_all_keeps_the_current_limit() {
    let (out, asked) = run(10000, 1024, 1024);
    // Never asks for the current limit itself (or less).
    assert!(asked.iter().all(|&n| n > 1024));
    assert_eq!(out.maxclients, 992);
    assert!(
        texts(&out)[2]
            .starts_with("Current maximum open files is 1024. maxclients has been reduced to 992 ")
    );
}

#[test]
fn thirty_two_descriptors_or_fewer_are_fatal() {
    for soft in [0, 10, 32] {
        let (out, _) = run(10000, soft, soft);
        assert!(out.fatal, "{soft}");
        assert_eq!(
            texts(&out),
            [format!(
                "Your current 'ulimit -n' of {soft} is not enough for the server to start. Please increase your open file limit to at least 10032. Exiting."
            )]
        );
    }
    let (out, _) = run(10000, 33, 33);
    assert_eq!((out.fatal, out.maxclients), (false, 1));
}

#[test]
fn small_needs_step_down_without_underflow() {
    // maxclients 1 needs 33: asks 33 and 17, then stops under the step size.
    let (out, asked) = run(1, 10, 10);
    assert_eq!(asked, [33, 17]);
    assert!(out.fatal);
}

#[test]
fn a_maxclients_near_2_pow_32_wraps_like_c_and_asks_for_nothing() {
    // C's unsigned int sum: 4294967295 + 32 = 31 descriptors, which any limit covers.
    let (out, asked) = run(u32::MAX, 1024, 1024);
    assert!(asked.is_empty());
    assert_eq!((out.maxclients, out.log.len()), (u32::MAX, 0));
    // Just below the wrap, %d prints the requested maxclients negative (the ceiling
    // spares the 268 million calls of the walk down).
    let (out, asked) = run_with(u32::MAX - 100, 1024, 1024, Some(1024));
    assert!(asked.is_empty());
    assert!(
        texts(&out)[0]
            .starts_with("You requested maxclients of -101 requiring at least 4294967227 ")
    );
    assert!(texts(&out)[1].ends_with("because of OS error: errno 1."));
    assert_eq!(out.maxclients, 992);
}

#[test]
fn a_ceiling_above_the_current_limit_is_where_the_walk_starts() {
    // 10032 down to the first candidate at or under 5000 (4992), in one call.
    let (out, asked) = run_with(10000, 1024, 5000, Some(5000));
    assert_eq!(asked, [4992]);
    assert_eq!(out.maxclients, 4960);
    // A ceiling that is wrong (too high) only means a longer walk, never another result.
    let (out2, _) = run_with(10000, 1024, 5000, Some(8000));
    assert_eq!(out, out2);
}

#[test]
fn an_unreadable_limit_assumes_1024() {
    let out = adjust(
        10000,
        || Err(EPERM),
        None,
        |_| Ok(()),
        |e| format!("errno {e}"),
    );
    assert_eq!(out.maxclients, 992);
    assert_eq!(
        texts(&out),
        [
            "Unable to obtain the current NOFILE limit (errno 1), assuming 1024 and setting the max clients configuration accordingly."
        ]
    );
}
