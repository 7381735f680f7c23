//! The server log, in redis' own line format:
//! `<pid>:X <dd Mon yyyy HH:MM:SS.mmm> <level-char> <message>`.
//!
//! Like redis, the log file is opened in append mode for every line and closed again,
//! which makes the logger safe across log rotation (a renamed file is simply recreated)
//! and keeps stderr free when a logfile is configured. An empty logfile means stdout.

use crate::config::LogLevel;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{SystemTime, UNIX_EPOCH};

/// Redis formats log messages into a 1024-byte buffer (`LOG_MAX_LEN`), NUL included.
const MAX_MESSAGE: usize = 1023;

/// Where lines go.
#[derive(Debug, Clone)]
pub enum Sink {
    Stdout,
    File(PathBuf),
    /// Kept in memory (tests and embedders).
    Memory(Arc<Mutex<Vec<String>>>),
}

pub struct Logger {
    pid: u32,
    level: AtomicU8,
    sink: Mutex<Sink>,
    /// `syslog-enabled yes`: each line's message also goes to syslog(3).
    syslog: AtomicBool,
}

impl Logger {
    /// `logfile` "" logs to stdout, like redis.
    pub fn new(logfile: &str, level: LogLevel) -> Logger {
        let sink = if logfile.is_empty() {
            Sink::Stdout
        } else {
            Sink::File(PathBuf::from(logfile))
        };
        Logger::with_sink(sink, level)
    }

    pub fn with_sink(sink: Sink, level: LogLevel) -> Logger {
        Logger {
            pid: std::process::id(),
            level: AtomicU8::new(level_to_u8(level)),
            sink: Mutex::new(sink),
            syslog: AtomicBool::new(false),
        }
    }

    /// `syslog-enabled yes`: openlog(3) as Redis' initServer calls it, then every line
    /// that is written also goes to syslog at the matching priority. Lines logged before
    /// this (the start-up banner) reach syslog under glibc's defaults (program name, no
    /// pid, `user`), as redis-sentinel's do.
    pub fn enable_syslog(&self, ident: &str, facility: &str) {
        let facility = match facility {
            "user" => libc::LOG_USER,
            "local1" => libc::LOG_LOCAL1,
            "local2" => libc::LOG_LOCAL2,
            "local3" => libc::LOG_LOCAL3,
            "local4" => libc::LOG_LOCAL4,
            "local5" => libc::LOG_LOCAL5,
            "local6" => libc::LOG_LOCAL6,
            "local7" => libc::LOG_LOCAL7,
            _ => libc::LOG_LOCAL0,
        };
        // openlog keeps the pointer: the ident lives as long as the process.
        let ident: &'static std::ffi::CStr = Box::leak(
            std::ffi::CString::new(crate::resp::until_nul(ident.as_bytes()))
                .unwrap_or_default()
                .into_boxed_c_str(),
        );
        // SAFETY: a NUL-terminated string that is never freed.
        unsafe {
            libc::openlog(
                ident.as_ptr(),
                libc::LOG_PID | libc::LOG_NDELAY | libc::LOG_NOWAIT,
                facility,
            )
        };
        self.syslog.store(true, Ordering::Relaxed);
    }

    /// The start-up lines before openlog: syslog is on, with glibc's defaults.
    pub fn syslog_before_openlog(&self) {
        self.syslog.store(true, Ordering::Relaxed);
    }

    /// A logger that keeps its lines in memory; returns the shared line buffer.
    pub fn memory(level: LogLevel) -> (Logger, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (Logger::with_sink(Sink::Memory(lines.clone()), level), lines)
    }

    pub fn level(&self) -> LogLevel {
        level_from_u8(self.level.load(Ordering::Relaxed))
    }

    pub fn set_level(&self, level: LogLevel) {
        self.level.store(level_to_u8(level), Ordering::Relaxed);
    }

    /// Switch to another logfile ("" = stdout).
    pub fn set_logfile(&self, logfile: &str) {
        *self.sink.lock().unwrap_or_else(|e| e.into_inner()) = if logfile.is_empty() {
            Sink::Stdout
        } else {
            Sink::File(PathBuf::from(logfile))
        };
    }

    /// Whether a line at `level` would be written (redis: `level >= verbosity`).
    pub fn enabled(&self, level: LogLevel) -> bool {
        level != LogLevel::Nothing && level >= self.level()
    }

    /// Log `msg` at `level` with the standard prefix, if the level passes.
    pub fn log(&self, level: LogLevel, msg: &str) {
        if !self.enabled(level) {
            return;
        }
        let line = format_line(self.pid, unix_ms(), level, msg);
        if self.write_line(&line) {
            // Redis sends the message as formatted into its 1024-byte buffer.
            self.to_syslog(level, &msg[..message_len(msg)]);
        }
    }

    /// `syslog-enabled yes`: `msg` to syslog(3) at the level's priority (a NUL ends
    /// it, as it ends C's string).
    fn to_syslog(&self, level: LogLevel, msg: &str) {
        if !self.syslog.load(Ordering::Relaxed) {
            return;
        }
        let priority = match level {
            LogLevel::Debug => libc::LOG_DEBUG,
            LogLevel::Verbose => libc::LOG_INFO,
            LogLevel::Notice => libc::LOG_NOTICE,
            LogLevel::Warning | LogLevel::Nothing => libc::LOG_WARNING,
        };
        if let Ok(text) = std::ffi::CString::new(crate::resp::until_nul(msg.as_bytes())) {
            // SAFETY: a "%s" format with one NUL-terminated argument.
            unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
        }
    }

    /// `text` as it is, without prefix or newline (Redis' `LL_RAW`: the bug report's
    /// banners), if the level passes; it goes to syslog too.
    pub fn log_raw(&self, level: LogLevel, text: &str) {
        if !self.enabled(level) {
            return;
        }
        let written = self.write(text, text);
        if written {
            self.to_syslog(level, text);
        }
    }

    /// The line redis' signal handler writes: `<pid>:signal-handler (<secs>) <msg>`.
    /// Logged at warning level.
    pub fn log_signal(&self, msg: &str) {
        if !self.enabled(LogLevel::Warning) {
            return;
        }
        let line = format!("{}:signal-handler ({}) {}", self.pid, unix_ms() / 1000, msg);
        self.write_line(&line);
    }

    /// Make sure everything written so far reached its destination.
    pub fn flush(&self) {
        if matches!(
            *self.sink.lock().unwrap_or_else(|e| e.into_inner()),
            Sink::Stdout
        ) {
            let _ = std::io::stdout().flush();
        }
    }

    /// False when the logfile could not be opened (then, as in Redis' serverLogRaw,
    /// the line does not reach syslog either).
    fn write_line(&self, line: &str) -> bool {
        self.write(&format!("{line}\n"), line)
    }

    /// `text` to the sink; a memory sink keeps `kept` (the line without its newline).
    fn write(&self, text: &str, kept: &str) -> bool {
        let sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        match &*sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            // An unwritable logfile loses the line, as in redis: never fall back to stderr.
            Sink::File(path) => match OpenOptions::new().create(true).append(true).open(path) {
                Ok(mut f) => {
                    let _ = f.write_all(text.as_bytes());
                }
                Err(_) => return false,
            },
            Sink::Memory(lines) => lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(kept.to_string()),
        }
        true
    }
}

/// One complete log line (without newline) for `pid` at `unix_ms` local time.
pub fn format_line(pid: u32, unix_ms: u64, level: LogLevel, msg: &str) -> String {
    format!(
        "{pid}:X {} {} {}",
        format_time(unix_ms),
        level_char(level),
        &msg[..message_len(msg)]
    )
}

/// How much of `msg` fits Redis' message buffer (on a character boundary).
fn message_len(msg: &str) -> usize {
    let mut cut = msg.len().min(MAX_MESSAGE);
    while !msg.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// `.` debug, `-` verbose, `*` notice, `#` warning.
pub fn level_char(level: LogLevel) -> char {
    match level {
        LogLevel::Debug => '.',
        LogLevel::Verbose => '-',
        LogLevel::Notice => '*',
        LogLevel::Warning | LogLevel::Nothing => '#',
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `dd Mon yyyy HH:MM:SS.mmm` in local time (the `%d %b %Y %H:%M:%S.` + millis of redis).
pub fn format_time(unix_ms: u64) -> String {
    let tm = local_time((unix_ms / 1000) as i64);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        unix_ms % 1000
    )
}

fn local_time(secs: i64) -> libc::tm {
    static TZSET: Once = Once::new();
    unsafe extern "C" {
        fn tzset();
    }
    // SAFETY: tzset only initialises libc's timezone globals; done once, before any
    // localtime_r, so concurrent callers see a settled timezone.
    TZSET.call_once(|| unsafe { tzset() });
    let t = secs as libc::time_t;
    // SAFETY: an all-zero tm is a valid value; localtime_r writes only into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call.
    unsafe { libc::localtime_r(&t, &mut tm) };
    tm
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn level_to_u8(l: LogLevel) -> u8 {
    match l {
        LogLevel::Debug => 0,
        LogLevel::Verbose => 1,
        LogLevel::Notice => 2,
        LogLevel::Warning => 3,
        LogLevel::Nothing => 4,
    }
}

fn level_from_u8(v: u8) -> LogLevel {
    match v {
        0 => LogLevel::Debug,
        1 => LogLevel::Verbose,
        2 => LogLevel::Notice,
        3 => LogLevel::Warning,
        _ => LogLevel::Nothing,
    }
}
