//! Load errors, displayed exactly as redis-sentinel 7.0.15 prints them.

use std::fmt;

/// Which of the two shapes of fatal config error this is, so `main` can decide whether a
/// log-line prefix (`<pid>:X <date> # `) goes in front of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// "Fatal error, can't open config file ..." — printed as a WARNING log line.
    CantOpen,
    /// The "*** FATAL CONFIG FILE ERROR ***" block — printed raw on stderr.
    BadLine,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `path` is the absolute config path (or an `include` argument as written).
    CantOpen { path: String, reason: String },
    BadLine {
        line_no: usize,
        line: String,
        message: String,
        /// A warning the real binary logs just before the block (e.g.
        /// `Failed to resolve hostname 'x'`); main prints it as a log line.
        log_before: Option<String>,
    },
}

impl ConfigError {
    pub fn kind(&self) -> ConfigErrorKind {
        match self {
            ConfigError::CantOpen { .. } => ConfigErrorKind::CantOpen,
            ConfigError::BadLine { .. } => ConfigErrorKind::BadLine,
        }
    }

    pub(crate) fn bad(line_no: usize, line: &str, message: impl Into<String>) -> Self {
        ConfigError::BadLine {
            line_no,
            line: line.to_string(),
            message: message.into(),
            log_before: None,
        }
    }
}

/// `CantOpen` displays as the log message (without the log prefix); `BadLine` as the
/// whole block starting with an empty line, without a trailing newline.
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::CantOpen { path, reason } => {
                write!(f, "Fatal error, can't open config file '{path}': {reason}")
            }
            ConfigError::BadLine {
                line_no,
                line,
                message,
                ..
            } => write!(
                f,
                "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n\
                 Reading the configuration file, at line {line_no}\n>>> '{line}'\n{message}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The C library's text for an OS error: what Redis prints via `strerror` and hiredis
/// reports for a link (std's `Display` appends " (os error N)", they don't). The one
/// place an OS error becomes text, for the config loader and the links alike.
pub fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            // SAFETY: strerror returns a pointer to a static NUL-terminated string.
            let p = unsafe { libc::strerror(code) };
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        }
        None => e.to_string(),
    }
}
