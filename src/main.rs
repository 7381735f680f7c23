//! `rsentinel` / `redis-sentinel`: start-up, signals and shutdown, as redis-sentinel
//! 7.0.15 does them.
//!
//! Arguments follow redis-server's own convention (`<config> --name value ...`), which is
//! not a shape an argument-parsing crate models, so they are handed to
//! `config::args_to_lines` unchanged; only `-v/--version` and `-h/--help` are handled here.
//! The one subcommand, `rsentinel demo`, parses its own options with clap.

use rsentinel::config::{self, LogLevel};
use rsentinel::core::{Identity, Sentinel};
use rsentinel::links::{LinkManager, LinkOptions};
use rsentinel::log::{self as rlog, Logger};
use rsentinel::runtime;
use rsentinel::server::Server;
use rsentinel::shell::{Shell, now_ms};
use rsentinel::state::{ProcessInfo, State};
use rsentinel::supervise::Supervision;
use rsentinel::tls::TlsContexts;
use std::path::Path;
use std::sync::Arc;

const VERSION_LINE: &str =
    "Redis server v=7.0.15 sha=00000000:0 malloc=libc bits=64 build=rsentinel";

fn usage() {
    println!(
        "Usage: ./redis-sentinel /path/to/sentinel.conf [options] [-]\n       ./redis-server /path/to/sentinel.conf --sentinel [options]\n       ./redis-sentinel -v or --version\n       ./redis-sentinel -h or --help\n\nExamples:\n       ./redis-sentinel /etc/sentinel.conf\n       ./redis-sentinel /etc/sentinel.conf --port 26380 --loglevel verbose\n"
    );
}

/// The log line redis prints before exiting when the configuration cannot be used.
fn die(msg: &str) -> ! {
    println!(
        "{}",
        rlog::format_line(std::process::id(), now_ms(), LogLevel::Warning, msg)
    );
    std::process::exit(1);
}

/// INFO's `executable`: `argv[0]` made absolute against the directory rsentinel was
/// started in (before `dir` changes it), as Redis computes it (not the resolved binary:
/// a `redis-sentinel` symlink shows as itself).
static EXECUTABLE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn main() {
    let argv0 = std::env::args().next().unwrap_or_default();
    let cwd = std::env::current_dir().unwrap_or_default();
    let _ = EXECUTABLE.set(config::absolute_path(&argv0, &cwd.to_string_lossy()));
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `rsentinel demo`, unless a config file called `demo` exists (then it is that
    // config path, as redis-sentinel would read it).
    if rsentinel::demo::wanted(&args) {
        std::process::exit(rsentinel::demo::run(&args[1..]));
    }
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => {
                println!("{VERSION_LINE}");
                return;
            }
            "-h" | "--help" => {
                usage();
                return;
            }
            _ => {}
        }
    }
    let (path, overrides) = config::args_to_lines(&args);
    let stdin_text = config::reads_stdin(&args).then(|| {
        println!(
            "{}",
            rlog::format_line(
                std::process::id(),
                now_ms(),
                LogLevel::Warning,
                "Reading config from stdin"
            )
        );
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut s);
        s
    });
    let Some(path) = path else {
        die("Sentinel needs config file on disk to save state. Exiting...")
    };
    let loaded = match config::load_with_stdin(Path::new(&path), stdin_text.as_deref(), &overrides)
    {
        Ok(l) => l,
        Err(e) => report_config_error(&e),
    };
    if let Some(reason) = loaded.logfile_error() {
        eprintln!("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n{reason}");
        std::process::exit(1);
    }
    if let Err(e) = check_writable(&loaded.path) {
        die(&format!(
            "Sentinel config file {} is not writable: {}. Exiting...",
            loaded.path.display(),
            rsentinel::links::wire::io_error_text(&e)
        ));
    }
    if let Some(dir) = &loaded.server.dir
        && let Err(e) = std::env::set_current_dir(dir)
    {
        die(&format!("Can't chdir to '{dir}': {e}"));
    }
    // Supervision is settled before daemonizing: a supervised process stays in the
    // foreground whatever `daemonize` says, as redis does.
    let supervision = Supervision::start(loaded.server.supervised);
    if loaded.server.daemonize && !supervision.supervised {
        daemonize();
    }
    // As Redis' initServer: a hangup (the terminal closing, a `kill -HUP` meant as a
    // reload) does not stop a sentinel. SIGPIPE is already ignored by Rust's runtime.
    // SAFETY: setting a signal's disposition to SIG_IGN, before any thread exists.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
    // What `ps` and the scheduler see, while this is still the only thread (the
    // runtime's threads inherit the affinity; the title rewrites the environment).
    if loaded.server.set_proc_title {
        let vars = config::proc_title::Vars::for_server(
            &loaded.server,
            argv0.clone(),
            loaded.path.display().to_string(),
        );
        if let Some(title) = config::proc_title::expand(&loaded.server.proc_title_template, &vars) {
            rsentinel::process::title::set(&title);
        }
    }
    if let Some(list) = &loaded.server.server_cpulist {
        rsentinel::process::cpus::apply(list);
    }
    // One thread, like redis-sentinel: the core sits behind one lock anyway, and the
    // measured idle cost at 1,000 masters did not improve with more workers. A config
    // flush blocks the loop for its fsync, as redis-sentinel's synchronous flush does.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = rt.block_on(run(loaded, supervision));
    std::process::exit(code);
}

/// Print a config error the way redis-sentinel does: a log line for an unreadable file,
/// the FATAL block on stderr for a bad line (preceded by its log line, if any).
fn report_config_error(e: &config::ConfigError) -> ! {
    let log = |msg: &str| {
        println!(
            "{}",
            rlog::format_line(std::process::id(), now_ms(), LogLevel::Warning, msg)
        )
    };
    match e {
        config::ConfigError::CantOpen { .. } => log(&e.to_string()),
        config::ConfigError::BadLine { log_before, .. } => {
            if let Some(msg) = log_before {
                log(msg);
            }
            eprintln!("{e}");
        }
    }
    std::process::exit(1);
}

fn check_writable(p: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(p.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: plain access(2) on a NUL-terminated path.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Classic double-fork-free daemonize as redis does it: fork, setsid, stdio to /dev/null.
fn daemonize() {
    // SAFETY: called before any thread (tokio runtime) is started.
    unsafe {
        match libc::fork() {
            -1 => die("fork failed"),
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd != -1 {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
            if fd > 2 {
                libc::close(fd);
            }
        }
    }
}

async fn run(loaded: config::Loaded, supervision: Supervision) -> i32 {
    let mut server_cfg = loaded.server.clone();
    let logger = Arc::new(Logger::new(&server_cfg.logfile, server_cfg.loglevel));
    let pid = std::process::id();
    let log_all = |lines: Vec<(LogLevel, String)>| {
        for (level, text) in lines {
            logger.log(level, &text);
        }
    };
    if server_cfg.syslog_enabled {
        logger.syslog_before_openlog();
    }
    // A bug is reported in this log and (outside a client connection) ends the process.
    let own_pidfile = (server_cfg.daemonize && !supervision.supervised)
        .then(|| server_cfg.pidfile.clone().map(std::path::PathBuf::from))
        .flatten();
    rsentinel::process::crash::install(logger.clone(), server_cfg.crash_log_enabled, own_pidfile);
    // While loading (before supervision is detected), as in Redis' main.
    for w in &loaded.warnings {
        logger.log(LogLevel::Warning, w);
    }
    log_all(supervision.log.clone());
    logger.log(
        LogLevel::Warning,
        "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
    );
    logger.log(
        LogLevel::Warning,
        &format!(
            "Redis version=7.0.15, bits=64, commit=00000000, modified=0, pid={pid}, just started"
        ),
    );
    logger.log(LogLevel::Warning, "Configuration loaded");
    if server_cfg.syslog_enabled {
        logger.enable_syslog(&server_cfg.syslog_ident, &server_cfg.syslog_facility);
    }
    // TLS is configured before anything else is set up, as in redis.
    let tls_cfg = &server_cfg.tls;
    let tls = if tls_cfg.enabled() {
        match TlsContexts::configure(tls_cfg) {
            Ok(t) => Some(t),
            Err(line) => {
                logger.log(LogLevel::Warning, &line);
                logger.log(
                    LogLevel::Warning,
                    "Failed to configure TLS. Check logs for more info.",
                );
                logger.flush();
                return 1;
            }
        }
    } else {
        None
    };
    let files = rsentinel::server::fdlimit::adjust_own(server_cfg.maxclients);
    log_all(files.log);
    if files.fatal {
        logger.flush();
        return 1;
    }
    server_cfg.maxclients = files.maxclients;
    logger.log(LogLevel::Notice, "monotonic clock: POSIX clock_gettime");

    // Bind first: like redis, a taken port is fatal before anything is written.
    let binds = rsentinel::server::listen::bind_addresses(&server_cfg.bind);
    let mut listeners = Vec::new();
    let mut tls_listeners = Vec::new();
    for (port, kind) in [(server_cfg.port, "TCP"), (tls_cfg.port, "TLS")] {
        if port == 0 {
            continue;
        }
        let bound = rsentinel::server::listen::listen_to_port(&binds, port, server_cfg.tcp_backlog);
        for w in bound.warnings() {
            logger.log(LogLevel::Warning, &w);
        }
        let Ok(tokio_listeners) = bound.into_tokio() else {
            logger.log(
                LogLevel::Warning,
                &format!("Failed listening on port {port} ({kind}), aborting."),
            );
            return 1;
        };
        match kind {
            "TCP" => listeners = tokio_listeners,
            _ => tls_listeners = tokio_listeners,
        }
    }
    let unix_listener = match &server_cfg.unixsocket {
        Some(path) => match rsentinel::server::unix::bind(
            path,
            server_cfg.unixsocketperm,
            server_cfg.tcp_backlog,
        ) {
            Ok(l) => Some((l, Arc::<str>::from(path.as_str()))),
            Err(e) => {
                logger.log(
                    LogLevel::Warning,
                    &format!("Failed opening Unix socket: {e}"),
                );
                return 1;
            }
        },
        None => None,
    };
    if listeners.is_empty() && tls_listeners.is_empty() && unix_listener.is_none() {
        logger.log(
            LogLevel::Warning,
            "Configured to not listen anywhere, exiting.",
        );
        logger.flush();
        return 1;
    }
    // The HTTP endpoint (rsentinel's `sentinel metrics-port`) binds on the same
    // addresses; a taken port is as fatal as the RESP port's.
    let metrics_port = loaded.sentinel.metrics_port;
    let metrics_listeners = if metrics_port != 0 {
        match rsentinel::metrics::http::bind(&binds, metrics_port).await {
            Ok(l) => l,
            Err(e) => {
                logger.log(
                    LogLevel::Warning,
                    &format!("Could not create the metrics HTTP listening socket {e}"),
                );
                logger.log(
                    LogLevel::Warning,
                    &format!("Failed listening on metrics port {metrics_port} (tcp), aborting."),
                );
                return 1;
            }
        }
    } else {
        Vec::new()
    };
    if let Some(pidfile) = &server_cfg.pidfile {
        let _ = std::fs::write(pidfile, format!("{pid}\n"));
    }
    logger.log(
        LogLevel::Notice,
        &format!("Running mode=sentinel, port={}.", server_cfg.main_port()),
    );
    if let Some(w) = rsentinel::server::listen::backlog_warning(server_cfg.tcp_backlog) {
        logger.log(LogLevel::Warning, &w);
    }
    // Users are created after the config is read: unknown commands in `user` lines
    // only fail here, like Redis' ACLLoadConfiguredUsers.
    if let Err(msg) =
        rsentinel::acl::Users::from_config(server_cfg.requirepass.as_deref(), &server_cfg.users)
    {
        logger.log(LogLevel::Warning, &msg);
        logger.log(
            LogLevel::Warning,
            "Critical error while loading ACLs. Exiting.",
        );
        logger.flush();
        return 1;
    }

    let seed: u64 = rand::random();
    let had_myid = loaded.sentinel.myid.is_some();
    let mut core = Sentinel::new_with_dns(
        &loaded.sentinel,
        Identity {
            port: server_cfg.port,
            tls_port: tls_cfg.port,
            tls_replication: tls_cfg.replication,
            requirepass: server_cfg.requirepass.clone(),
        },
        seed,
        now_ms(),
        runtime::resolve_config_names(&loaded.sentinel),
    );

    core.set_utc_offset(local_utc_offset());
    let (links, events) = LinkManager::new(LinkOptions {
        bind_source_addr: server_cfg
            .bind_source_addr
            .as_deref()
            .and_then(|a| a.parse().ok()),
        tls: tls.clone().filter(|_| tls_cfg.replication),
        ..Default::default()
    });
    // The shared client-side state exists before the performer: the performer publishes
    // events on its hub, and the config rewrite reads its live ACL users (ACL SETUSER
    // changes them), as redis rewrites live users.
    let state = State::new(server_cfg.clone(), process_info(&loaded, seed, pid));
    state.hub().set_logger(logger.clone());
    let publish: runtime::Publish = {
        let hub = state.hub();
        Arc::new(move |channel: &str, msg: &str| {
            hub.publish(channel.as_bytes(), msg.as_bytes());
        })
    };
    let loaded = Arc::new(loaded);
    // The users as last written: ACL changes reach the file only with the next sentinel
    // flush, as in redis-sentinel, so the shutdown rewrite must not add them either.
    let flushed_users = Arc::new(std::sync::Mutex::new(config::describe_users(
        &server_cfg.users,
        server_cfg.requirepass.as_deref(),
    )));
    // Whether the last flush failed: only then does the shutdown rewrite again.
    let unsaved = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let persist: runtime::Persist = {
        let loaded = loaded.clone();
        let server_cfg = server_cfg.clone();
        let state = state.clone();
        let flushed_users = flushed_users.clone();
        let unsaved = unsaved.clone();
        let logger = logger.clone();
        Arc::new(move |core: &Sentinel| {
            let users = state.users().describe_all();
            let mut snapshot = core.config_snapshot();
            snapshot.metrics_port = metrics_port;
            let res = loaded.rewrite(&snapshot, &server_cfg, &users);
            if res.is_ok() {
                *flushed_users.lock().unwrap_or_else(|e| e.into_inner()) = users;
                log_rewritten(&logger, &loaded);
            }
            unsaved.store(res.is_err(), std::sync::atomic::Ordering::Relaxed);
            res
        })
    };
    let (scripts, script_reports) = rsentinel::scripts::ScriptRunner::new();
    let counters = Arc::new(rsentinel::metrics::Counters::new());
    let performer = runtime::performer_counted(
        links.clone(),
        publish,
        logger.clone(),
        persist,
        scripts,
        counters.clone(),
    );
    // The built-in proxy (issue #11) follows the core's routing views; without a
    // `sentinel proxy` line it never binds anything.
    let (routes_tx, routes_rx) = rsentinel::proxy::channel();
    let shell =
        Arc::new(Shell::new(core, performer).observed_by(rsentinel::proxy::observer(routes_tx)));
    rsentinel::proxy::Proxy {
        routes: routes_rx,
        state: state.clone(),
        logger: logger.clone(),
        binds: binds.clone(),
    }
    .spawn();

    let server = Server::new(state.clone(), shell.clone(), logger.clone());

    shell.with_core(|core, now| core.announce_startup(now, !had_myid));
    // After `Sentinel ID is ...`, as Redis' main calls setOOMScoreAdj.
    let oom = &server_cfg.oom_score_adj;
    if let Some(w) = rsentinel::process::oom::apply(oom, server_cfg.oom_score_adj_master) {
        logger.log(LogLevel::Warning, &w);
    }

    for l in listeners {
        tokio::spawn(server.clone().serve(l));
    }
    if let Some((l, path)) = unix_listener {
        tokio::spawn(server.clone().serve_unix(l, path));
    }
    if !metrics_listeners.is_empty() {
        let endpoint = rsentinel::metrics::Endpoint::new(shell.clone(), counters, state.clone());
        for l in metrics_listeners {
            tokio::spawn(endpoint.clone().serve(l));
        }
        logger.log(
            LogLevel::Notice,
            &format!("Metrics and status API on HTTP port {metrics_port}"),
        );
    }
    if let Some(t) = &tls {
        for l in tls_listeners {
            tokio::spawn(server.clone().serve_tls(l, t.clone()));
        }
    }
    tokio::spawn(runtime::drive(shell.clone(), events, script_reports, seed));
    let mut notes = Vec::new();
    supervision.ready(&mut notes);
    log_all(notes);

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => logger.log_signal("Received SIGTERM scheduling shutdown..."),
        _ = int.recv() => logger.log_signal("Received SIGINT scheduling shutdown..."),
        _ = state.wait_shutdown() => {}
    }
    logger.log(LogLevel::Warning, "User requested shutdown...");
    let mut notes = Vec::new();
    supervision.stopping(&mut notes);
    log_all(notes);
    // Every change was already flushed when it happened, and redis-sentinel does not
    // rewrite at shutdown (a rewrite of an unchanged file is not byte-identical: a second
    // rewrite adds a blank line). Only when the last flush failed is it tried once more.
    if unsaved.load(std::sync::atomic::Ordering::Relaxed) {
        final_rewrite(&shell, &loaded, metrics_port, &flushed_users, &logger);
    }
    links.close_all();
    if let Some(pidfile) = &server_cfg.pidfile {
        logger.log(LogLevel::Notice, "Removing the pid file.");
        let _ = std::fs::remove_file(pidfile);
    }
    if let Some(path) = &server_cfg.unixsocket {
        log_all(rsentinel::server::unix::remove(path));
    }
    logger.log(
        LogLevel::Warning,
        "Sentinel is now ready to exit, bye bye...",
    );
    logger.flush();
    0
}

/// Process-level facts for `INFO server`; the run id derives from the start-up seed.
/// The shutdown's rewrite, after a flush that failed: the users as last flushed (their
/// lines are rendered by the live ACL state, which the shutdown no longer consults).
fn final_rewrite(
    shell: &Shell,
    loaded: &config::Loaded,
    metrics_port: u16,
    flushed_users: &std::sync::Mutex<Vec<String>>,
    logger: &Logger,
) {
    let (mut snapshot, _) = shell.with_core(|core, _| core.config_snapshot());
    snapshot.metrics_port = metrics_port;
    let users = flushed_users
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let res = loaded.rewrite(&snapshot, &loaded.server, &users);
    if res.is_ok() {
        log_rewritten(logger, loaded);
    }
    if let Err(e) = res {
        logger.log(
            LogLevel::Warning,
            &format!(
                "WARNING: Sentinel was not able to save the new configuration on disk!!!: {}",
                rsentinel::links::wire::io_error_text(&e)
            ),
        );
    }
}

/// Redis' rewriteConfigOverwriteFile reports each successful rewrite at debug level.
fn log_rewritten(logger: &Logger, loaded: &config::Loaded) {
    logger.log(
        LogLevel::Debug,
        &format!(
            "Rewritten config file ({}) successfully",
            loaded.path.display()
        ),
    );
}

fn process_info(loaded: &config::Loaded, seed: u64, pid: u32) -> ProcessInfo {
    ProcessInfo {
        run_id: {
            let mut r = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed ^ 0x5eed);
            rsentinel::core::random_hex_id(&mut r)
        },
        config_file: loaded.path.display().to_string(),
        executable: EXECUTABLE.get().cloned().unwrap_or_default(),
        start_ms: now_ms(),
        pid,
        hz: 0,
        os: uname(),
    }
}

fn uname() -> String {
    // SAFETY: uname fills a zeroed struct.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return String::new();
        }
        let f = |p: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(p.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
    }
}

/// The local zone's offset from UTC, for the ctime-style times redis prints in logs.
fn local_utc_offset() -> i64 {
    // SAFETY: localtime_r fills a zeroed tm from a valid time_t.
    unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff
    }
}
