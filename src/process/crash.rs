//! What a bug (a Rust panic) does to the sentinel.
//!
//! Left alone, a panic ends only the tokio task it happens in, and says so on stderr,
//! which a daemonized or logfile-configured sentinel does not keep. A sentinel whose
//! monitoring or failover task died that way would go on answering clients from a
//! frozen state: the worst way for it to fail. So, like redis-sentinel on a failed
//! assertion, every panic is written into the server log as a bug report, and the
//! process aborts so that its supervisor restarts it from the config file.
//!
//! One exception: a panic while serving a single client connection (the code a remote
//! peer's bytes drive most directly) closes that connection only. The report is
//! written all the same; the sentinel's own state was not being changed there.

use crate::config::LogLevel;
use crate::log::Logger;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

tokio::task_local! {
    static ISOLATED: ();
}

/// Run `f` (a client connection) so that a panic inside it is not fatal.
pub async fn isolated<F: Future>(f: F) -> F::Output {
    ISOLATED.scope((), f).await
}

/// Whether the running code is inside [`isolated`].
pub fn in_isolated() -> bool {
    ISOLATED.try_with(|_| ()).is_ok()
}

/// The report's lines for a panic at `location` saying `message`: (raw, text) pairs,
/// raw ones written as they are (Redis' banners), the others as log lines.
pub fn report(
    location: &str,
    message: &str,
    isolated: bool,
    backtrace: Option<&str>,
) -> Vec<(bool, String)> {
    let mut out = vec![
        (
            true,
            "\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n".to_string(),
        ),
        (false, "=== ASSERTION FAILED ===".to_string()),
        (false, format!("==> {location} '{message}' is not true")),
    ];
    if let Some(trace) = backtrace {
        out.push((false, "------ STACK TRACE ------".to_string()));
        out.push((true, format!("{trace}\n")));
    }
    out.push((
        false,
        if isolated {
            "rsentinel: the bug hit while serving one client; that connection is closed and the sentinel goes on."
        } else {
            "rsentinel: aborting, so that a supervisor restarts the sentinel from its config file."
        }
        .to_string(),
    ));
    out.push((
        true,
        "\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n       Please report it with this log to the rsentinel project.\n\n".to_string(),
    ));
    out
}

/// Install the panic hook. `crash_log` is `crash-log-enabled` (the stack trace);
/// `pidfile` is removed before aborting when the process daemonized itself, as Redis'
/// bugReportEnd does.
pub fn install(logger: Arc<Logger>, crash_log: bool, pidfile: Option<PathBuf>) {
    std::panic::set_hook(Box::new(move |info| {
        let isolated = in_isolated();
        let location = info
            .location()
            .map_or_else(|| "?".to_string(), |l| format!("{}:{}", l.file(), l.line()));
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Box<dyn Any>".to_string());
        let trace = crash_log.then(|| std::backtrace::Backtrace::force_capture().to_string());
        for (raw, text) in report(&location, &message, isolated, trace.as_deref()) {
            if raw {
                logger.log_raw(LogLevel::Warning, &text);
            } else {
                logger.log(LogLevel::Warning, &text);
            }
        }
        logger.flush();
        if !isolated {
            if let Some(p) = &pidfile {
                let _ = std::fs::remove_file(p);
            }
            std::process::abort();
        }
    }));
}
