//! The process title (`set-proc-title`), as Redis sets it.
//!
//! redis-sentinel rewrites its command line at start-up, so `ps` shows
//! `redis-sentinel *:26379 [sentinel]` instead of the arguments it was started with;
//! operators find sentinels with `ps`/`pgrep -f` on that text, and a drop-in must show
//! the same. The text comes from `config::proc_title` (the template language).

/// Replace the command line `ps` shows with `title`, in the memory the kernel reports
/// as this process' argument area (Linux: `/proc/self/stat` fields 48-49). The
/// environment strings that follow it are moved to the heap first, as Redis'
/// setproctitle does, so that a title longer than the original arguments fits.
///
/// Must run before any other thread exists (it rewrites the environment) and after
/// the arguments were read (`std::env::args` reads the same memory).
pub fn set(title: &str) {
    let Some((start, end, env_start, env_end)) = areas() else {
        return;
    };
    // The environment strings extend the room only where they follow the arguments
    // directly (as the kernel lays them out).
    // SAFETY: the single-threaded start-up (see above) is the only reader of the
    // environment while it is re-created on the heap.
    let room_end = if env_start == end && env_end > end && unsafe { move_environment() } {
        env_end
    } else {
        end
    };
    if room_end <= start {
        return;
    }
    // glibc's program names point into argv[0]: keep copies (syslog's default ident
    // and error(3) use them), as Redis' setproctitle does.
    unsafe extern "C" {
        static mut program_invocation_name: *mut libc::c_char;
        static mut program_invocation_short_name: *mut libc::c_char;
    }
    // SAFETY: single-threaded start-up; strdup of NUL-terminated strings, never freed.
    unsafe {
        program_invocation_name = libc::strdup(program_invocation_name);
        program_invocation_short_name = libc::strdup(program_invocation_short_name);
    }
    let room = room_end - start;
    let bytes = title.as_bytes();
    let n = bytes.len().min(room - 1);
    // SAFETY: [start, room_end) is this process' own argument (and, once moved, former
    // environment) memory, mapped and writable for the life of the process; nothing
    // refers to it any more once the arguments were read and the environment moved.
    unsafe {
        let p = start as *mut u8;
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, n);
        std::ptr::write_bytes(p.add(n), 0, room - n);
    }
}

/// (arg_start, arg_end, env_start, env_end) from `/proc/self/stat`.
fn areas() -> Option<(usize, usize, usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count fields after its ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3.
    let field = |n: usize| fields.get(n - 3)?.parse::<usize>().ok();
    Some((field(48)?, field(49)?, field(50)?, field(51)?))
}

/// Copy every environment variable to the heap (libc's `environ` then no longer points
/// into the original area). False if the environment could not be rebuilt.
///
/// # Safety
/// No other thread may read or write the environment meanwhile.
unsafe fn move_environment() -> bool {
    let vars: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os().collect();
    // SAFETY: single-threaded by this function's contract.
    if unsafe { libc::clearenv() } != 0 {
        return false;
    }
    for (k, v) in vars {
        // SAFETY: as above.
        unsafe { std::env::set_var(k, v) };
    }
    true
}
