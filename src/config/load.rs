//! Loading a sentinel.conf plus command-line overrides, the way redis-server 7.0.15's
//! `loadServerConfig` does: generic directives in order (last one wins), `sentinel`
//! lines queued and applied afterwards in three passes (see `sentinel_apply`).

use std::path::{Path, PathBuf};

use super::errors::{ConfigError, strerror};
use super::generic::{self, DEPRECATED};
use super::generic_special::parse_cobl;
use super::sentinel_apply::{Queued, apply_queue};
use super::store::GenericStore;
use super::{LogLevel, SentinelConfig, ServerConfig, Supervised, TlsAuthClients};
use crate::resp::sds::{repr, split_args, trim_line};

/// A loaded configuration: what rsentinel acts on plus what the rewrite needs.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Absolute path of the config file (what `INFO` shows and the rewrite targets).
    pub path: PathBuf,
    pub server: ServerConfig,
    pub sentinel: SentinelConfig,
    /// Every other generic option seen, for the rewrite.
    pub generic: GenericStore,
    /// Warnings the real binary logs while loading (before its start-up banner).
    pub warnings: Vec<String>,
}

impl Loaded {
    /// Redis' last check of a config file: the log file must open (it is created if
    /// missing), relative paths in the directory `dir` moved to; the reason when it
    /// does not. Kept out of [`load`] (which only reads) because it writes: the binary
    /// runs it right after loading, with the FATAL block as its error.
    pub fn logfile_error(&self) -> Option<String> {
        if self.server.logfile.is_empty() {
            return None;
        }
        let dir = self
            .server
            .dir
            .as_deref()
            .map(PathBuf::from)
            .unwrap_or_default();
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(&self.server.logfile))
            .err()
            .map(|e| format!("Can't open the log file: {}", strerror(&e)))
    }
}

/// Commands that exist in sentinel mode (targets of generic `rename-command`).
const SENTINEL_COMMANDS: &[&str] = &[
    "acl",
    "auth",
    "client",
    "command",
    "hello",
    "info",
    "ping",
    "psubscribe",
    "publish",
    "punsubscribe",
    "role",
    "sentinel",
    "shutdown",
    "subscribe",
    "unsubscribe",
];

struct LoadState {
    /// The directory relative paths are resolved against (real redis chdir()s on `dir`).
    cwd: PathBuf,
    server: ServerConfig,
    store: GenericStore,
    queue: Vec<Queued>,
    commands: Vec<String>,
    warnings: Vec<String>,
    /// How many `include`s deep the line being read is.
    include_depth: usize,
}

/// Deepest chain of `include`s read. redis-sentinel has no limit and dies of a stack
/// overflow on a file that includes itself (`include *.conf` in its own directory).
const MAX_INCLUDE_DEPTH: usize = 32;

/// Loads `path` then applies `overrides` (lines from [`super::args_to_lines`]).
/// Does not chdir: the caller chdirs to `server.dir` when it is set.
pub fn load(path: &Path, overrides: &[Vec<String>]) -> Result<Loaded, ConfigError> {
    load_with_stdin(path, None, overrides)
}

/// [`load`] with config text read from stdin (`redis-sentinel file -`), appended to the
/// file content before the override lines, as Redis does.
pub fn load_with_stdin(
    path: &Path,
    stdin: Option<&str>,
    overrides: &[Vec<String>],
) -> Result<Loaded, ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let abs = PathBuf::from(super::absolute_path(
        &path.to_string_lossy(),
        &cwd.to_string_lossy(),
    ));
    let text = std::fs::read(&abs).map_err(|e| ConfigError::CantOpen {
        path: abs.display().to_string(),
        reason: strerror(&e),
    })?;
    let mut text = String::from_utf8_lossy(&text).into_owned();
    if let Some(extra) = stdin {
        text.push_str(extra);
    }
    // Real redis appends "\n" and the options block to the file content, so override
    // line numbers continue after the file (and its trailing empty line).
    text.push('\n');
    text.push_str(&overrides_text(overrides));

    let mut st = LoadState {
        cwd,
        server: ServerConfig::default(),
        store: GenericStore::default(),
        queue: Vec::new(),
        commands: SENTINEL_COMMANDS.iter().map(|s| s.to_string()).collect(),
        warnings: Vec::new(),
        include_depth: 0,
    };
    st.process_text(&text)?;
    let sentinel = apply_queue(&st.queue, &st.cwd)?;
    Ok(Loaded {
        path: abs,
        server: st.server,
        sentinel,
        generic: st.store,
        warnings: st.warnings,
    })
}

/// The override lines as redis builds them: the option name raw, every argument quoted.
fn overrides_text(overrides: &[Vec<String>]) -> String {
    overrides
        .iter()
        .map(|l| {
            let mut s = l.first().cloned().unwrap_or_default();
            for a in l.iter().skip(1) {
                s.push(' ');
                s.push_str(&repr(a));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl LoadState {
    fn process_text(&mut self, text: &str) -> Result<(), ConfigError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = trim_line(raw);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line_no = i + 1;
            let args = split_args(line).ok_or_else(|| {
                ConfigError::bad(line_no, line, "Unbalanced quotes in configuration line")
            })?;
            if args.is_empty() {
                continue;
            }
            self.directive(&args, line_no, line)
                .map_err(|e| e.into_error(line_no, line))?;
        }
        Ok(())
    }

    fn directive(&mut self, args: &[String], line_no: usize, line: &str) -> Result<(), LineErr> {
        let name = args[0].to_ascii_lowercase();
        if let Some(spec) = generic::lookup(&name) {
            if !generic::is_multi_arg(spec.name) && args.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            let mut vals: Vec<String> = args[1..].to_vec();
            if generic::is_multi_arg(spec.name) && vals.len() == 1 && !vals[0].is_empty() {
                // `--save "900 1"` style: one argument holding several.
                vals = split_args(&vals[0]).unwrap_or_default();
            }
            return self.generic(spec, &vals);
        }
        // Accepted and ignored without a word, as redis-sentinel 7.0.15 does.
        if DEPRECATED.contains(&name.as_str()) {
            return Ok(());
        }
        match name.as_str() {
            "include" if args.len() == 2 => self.include(&args[1]),
            "rename-command" if args.len() == 3 => self.rename(&args[1], &args[2]),
            "user" if args.len() >= 2 => {
                if let Err(e) = crate::acl::validate_user_line(&args[1..], &self.server.users) {
                    return Err(format!(
                        "Error in user declaration '{}': {}",
                        args[e.arg],
                        e.err.message()
                    )
                    .into());
                }
                self.server.users.push(args[1..].to_vec());
                Ok(())
            }
            "loadmodule" if args.len() >= 2 => Ok(()),
            "sentinel" => {
                if args.len() > 1 {
                    self.queue.push(Queued {
                        args: args[1..].to_vec(),
                        line_no,
                        line: line.to_string(),
                    });
                }
                Ok(())
            }
            _ => Err("Bad directive or wrong number of arguments".into()),
        }
    }

    /// `include <file>`. A name with a wildcard (`*`, `?`, `[`) is a glob(3) pattern,
    /// as in Redis: every match is read in glob's order, and no match at all is no
    /// error (an empty `conf.d/*.conf`); a plain name must open.
    fn include(&mut self, file: &str) -> Result<(), LineErr> {
        let path = self.cwd.join(file);
        let files = if file.contains(['*', '?', '[']) {
            glob_paths(&path.to_string_lossy())
        } else {
            vec![(file.to_string(), path)]
        };
        for (shown, path) in files {
            if self.include_depth >= MAX_INCLUDE_DEPTH {
                return Err(LineErr::Fatal(ConfigError::CantOpen {
                    path: shown,
                    reason: format!(
                        "more than {MAX_INCLUDE_DEPTH} nested includes (a file that includes itself?)"
                    ),
                }));
            }
            let text = std::fs::read(&path).map_err(|e| {
                LineErr::Fatal(ConfigError::CantOpen {
                    path: shown,
                    reason: strerror(&e),
                })
            })?;
            self.include_depth += 1;
            let done = self.process_text(&String::from_utf8_lossy(&text));
            self.include_depth -= 1;
            done.map_err(LineErr::Fatal)?;
        }
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), LineErr> {
        let Some(pos) = self
            .commands
            .iter()
            .position(|c| c.eq_ignore_ascii_case(from))
        else {
            return Err("No such command in rename-command".into());
        };
        if !to.is_empty() {
            if self.commands.iter().any(|c| c.eq_ignore_ascii_case(to)) {
                return Err("Target command name already exists".into());
            }
            self.commands[pos] = to.to_ascii_lowercase();
        } else {
            self.commands.remove(pos);
        }
        self.server
            .rename_commands
            .push((from.to_string(), to.to_string()));
        Ok(())
    }

    fn generic(&mut self, spec: &'static generic::Spec, vals: &[String]) -> Result<(), LineErr> {
        if spec.name == "dir" {
            return self.dir(&vals[0]);
        }
        if spec.name == "client-output-buffer-limit" {
            for (class, limit) in parse_cobl(vals)? {
                match class {
                    0 => self.store.cobl_normal = limit,
                    1 => self.store.cobl_replica = limit,
                    _ => self.server.pubsub_limit = limit,
                }
            }
            return Ok(());
        }
        let value = generic::parse_value(spec, vals)?;
        if spec.name == "proc-title-template"
            && !super::proc_title::valid(&vals[0], &self.title_vars())
        {
            return Err("template format is invalid or contains unknown variables".into());
        }
        if spec.name == "oom-score-adj-values" {
            let v: Vec<i64> = value
                .as_deref()
                .unwrap_or_default()
                .split(' ')
                .filter_map(|x| x.parse().ok())
                .collect();
            // Redis keeps such values (a privileged process may use them) but warns.
            if v.len() == 3 && (v[1] < v[0] || v[2] < v[1]) {
                self.warnings.push(
                    "The oom-score-adj-values configuration may not work for non-privileged processes! Please consult the documentation."
                        .to_string(),
                );
            }
        }
        self.apply_server(spec, vals, value.as_deref());
        self.store.values.insert(spec.name, value);
        Ok(())
    }

    /// What a title template can name, as far as the file was read (Redis validates
    /// the template with the settings of the lines before it).
    fn title_vars(&self) -> super::proc_title::Vars {
        super::proc_title::Vars::for_server(&self.server, String::new(), String::new())
    }

    /// Mirrors the options rsentinel acts on into `ServerConfig`.
    fn apply_server(&mut self, spec: &generic::Spec, vals: &[String], value: Option<&str>) {
        let s = &mut self.server;
        let num = || value.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let raw = || (!vals[0].is_empty()).then(|| vals[0].clone());
        match spec.name {
            "port" => s.port = num() as u16,
            "bind" => s.bind = vals.to_vec(),
            "bind-source-addr" => s.bind_source_addr = raw(),
            "protected-mode" => s.protected_mode = value == Some("yes"),
            "daemonize" => s.daemonize = value == Some("yes"),
            "supervised" => {
                s.supervised = match value {
                    Some("upstart") => Supervised::Upstart,
                    Some("systemd") => Supervised::Systemd,
                    Some("auto") => Supervised::Auto,
                    _ => Supervised::No,
                }
            }
            "pidfile" => s.pidfile = raw(),
            "unixsocket" => s.unixsocket = raw(),
            "unixsocketperm" => {
                s.unixsocketperm = value
                    .and_then(|v| u32::from_str_radix(v, 8).ok())
                    .unwrap_or(0)
            }
            "logfile" => s.logfile = vals[0].clone(),
            "set-proc-title" => s.set_proc_title = value == Some("yes"),
            "proc-title-template" => s.proc_title_template = vals[0].clone(),
            "server_cpulist" => s.server_cpulist = raw(),
            "oom-score-adj" => s.oom_score_adj = value.unwrap_or("no").to_string(),
            "oom-score-adj-values" => {
                s.oom_score_adj_master = value
                    .and_then(|v| v.split(' ').next()?.parse().ok())
                    .unwrap_or(0)
            }
            "syslog-enabled" => s.syslog_enabled = value == Some("yes"),
            "crash-log-enabled" => s.crash_log_enabled = value == Some("yes"),
            "syslog-ident" => s.syslog_ident = vals[0].clone(),
            "syslog-facility" => s.syslog_facility = value.unwrap_or("local0").to_string(),
            "loglevel" => {
                s.loglevel = match value {
                    Some("debug") => LogLevel::Debug,
                    Some("verbose") => LogLevel::Verbose,
                    Some("warning") => LogLevel::Warning,
                    _ => LogLevel::Notice,
                }
            }
            "requirepass" => s.requirepass = raw(),
            "maxclients" => s.maxclients = num() as u32,
            "timeout" => s.timeout = num(),
            "tcp-keepalive" => s.tcp_keepalive = num(),
            "tcp-backlog" => s.tcp_backlog = num().min(i32::MAX as u64) as i32,
            "acllog-max-len" => s.acllog_max_len = num(),
            "aclfile" => self.store.aclfile = !vals[0].is_empty(),
            "tls-port" => s.tls.port = num() as u16,
            "tls-cert-file" => s.tls.cert_file = raw(),
            "tls-key-file" => s.tls.key_file = raw(),
            "tls-key-file-pass" => s.tls.key_file_pass = raw(),
            "tls-client-cert-file" => s.tls.client_cert_file = raw(),
            "tls-client-key-file" => s.tls.client_key_file = raw(),
            "tls-client-key-file-pass" => s.tls.client_key_file_pass = raw(),
            "tls-ca-cert-file" => s.tls.ca_cert_file = raw(),
            "tls-ca-cert-dir" => s.tls.ca_cert_dir = raw(),
            "tls-dh-params-file" => s.tls.dh_params_file = raw(),
            "tls-protocols" => s.tls.protocols = raw(),
            "tls-ciphers" => s.tls.ciphers = raw(),
            "tls-ciphersuites" => s.tls.ciphersuites = raw(),
            "tls-auth-clients" => {
                s.tls.auth_clients = match value {
                    Some("no") => TlsAuthClients::No,
                    Some("optional") => TlsAuthClients::Optional,
                    _ => TlsAuthClients::Yes,
                }
            }
            "tls-prefer-server-ciphers" => s.tls.prefer_server_ciphers = value == Some("yes"),
            "tls-session-caching" => s.tls.session_caching = value == Some("yes"),
            "tls-session-cache-size" => s.tls.session_cache_size = num(),
            "tls-session-cache-timeout" => s.tls.session_cache_timeout = num(),
            "tls-replication" => s.tls.replication = value == Some("yes"),
            "tls-cluster" => s.tls.cluster = value == Some("yes"),
            _ => {}
        }
    }

    fn dir(&mut self, d: &str) -> Result<(), LineErr> {
        // chdir("") fails with ENOENT in Redis; joining "" would name the current one.
        if d.is_empty() {
            let e = std::io::Error::from_raw_os_error(libc::ENOENT);
            return Err(LineErr::Msg(strerror(&e)));
        }
        let target = self.cwd.join(d);
        let resolved = std::fs::metadata(&target)
            .and_then(|m| {
                if m.is_dir() {
                    std::fs::canonicalize(&target)
                } else {
                    Err(std::io::Error::from_raw_os_error(libc::ENOTDIR))
                }
            })
            .map_err(|e| LineErr::Msg(strerror(&e)))?;
        self.server.dir = Some(resolved.display().to_string());
        self.cwd = resolved;
        Ok(())
    }
}

/// A per-line failure: either a message for the current line, or an error already
/// complete (from an included file).
enum LineErr {
    Msg(String),
    Fatal(ConfigError),
}

impl From<&str> for LineErr {
    fn from(s: &str) -> Self {
        LineErr::Msg(s.to_string())
    }
}

impl From<String> for LineErr {
    fn from(s: String) -> Self {
        LineErr::Msg(s)
    }
}

impl LineErr {
    fn into_error(self, line_no: usize, line: &str) -> ConfigError {
        match self {
            LineErr::Msg(m) => ConfigError::bad(line_no, line, m),
            LineErr::Fatal(e) => e,
        }
    }
}

impl Loaded {
    /// Rewrites the config file from the current state (the "flush"): reads the file as
    /// it is now, computes the new text with [`super::rewrite_text_with_users`], writes
    /// atomically. `users` are the live ACL users rendered as `user ...` lines.
    pub fn rewrite(
        &self,
        sentinel: &SentinelConfig,
        server: &ServerConfig,
        users: &[String],
    ) -> std::io::Result<()> {
        let old = match std::fs::read(&self.path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let mut server = server.clone();
        if server.dir.is_none() {
            server.dir = std::env::current_dir()
                .ok()
                .map(|d| d.display().to_string());
        }
        let text = super::rewrite_text_with_users(&old, &self.generic, &server, sentinel, users);
        super::write_atomic(&self.path, &text)
    }
}

/// The paths glob(3) finds for `pattern` (flags 0, as Redis calls it; sorted), each as
/// shown in errors and as opened.
fn glob_paths(pattern: &str) -> Vec<(String, std::path::PathBuf)> {
    use std::ffi::{CStr, CString};
    let Ok(c) = CString::new(pattern) else {
        return Vec::new();
    };
    // SAFETY: glob(3) fills the zeroed glob_t, read only when it succeeded, and
    // globfree releases it either way.
    unsafe {
        let mut g: libc::glob_t = std::mem::zeroed();
        let mut out = Vec::new();
        if libc::glob(c.as_ptr(), 0, None, &mut g) == 0 {
            for i in 0..g.gl_pathc {
                let p = CStr::from_ptr(*g.gl_pathv.add(i))
                    .to_string_lossy()
                    .into_owned();
                out.push((p.clone(), std::path::PathBuf::from(p)));
            }
        }
        libc::globfree(&mut g);
        out
    }
}
