//! `proc-title-template`: the language of the process title (what `ps` shows, set by
//! `process::title`). It is Redis' `sdstemplate`: `{name}` expands a variable, `{{` is
//! a literal brace, an unknown name or an unterminated `{` makes the template invalid
//! (refused at load), and the result is trimmed of spaces.

/// What a template may name.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// `{title}`: the program as executed (`argv[0]`).
    pub title: String,
    /// The first `bind` address as written, if any.
    pub first_bind: Option<String>,
    pub port: u16,
    pub tls_port: u16,
    pub unixsocket: Option<String>,
    /// `{config-file}`: the absolute path of the config file.
    pub config_file: String,
}

impl Vars {
    /// The variables of `server`'s settings, with `title` and `config_file`.
    pub fn for_server(server: &super::ServerConfig, title: String, config_file: String) -> Vars {
        Vars {
            title,
            first_bind: server.bind.first().cloned(),
            port: server.port,
            tls_port: server.tls.port,
            unixsocket: server.unixsocket.clone(),
            config_file,
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "title" => self.title.clone(),
            "listen-addr" if self.port != 0 || self.tls_port != 0 => format!(
                "{}:{}",
                self.first_bind.as_deref().unwrap_or("*"),
                if self.port != 0 {
                    self.port
                } else {
                    self.tls_port
                }
            ),
            "listen-addr" => format!(
                "unixsocket:{}",
                self.unixsocket.as_deref().unwrap_or("(null)")
            ),
            "server-mode" => "[sentinel]".to_string(),
            "config-file" => self.config_file.clone(),
            "port" => self.port.to_string(),
            "tls-port" => self.tls_port.to_string(),
            "unixsocket" => self.unixsocket.clone().unwrap_or_default(),
            _ => return None,
        })
    }
}

/// The title `template` gives, or `None` when the template is invalid.
pub fn expand(template: &str, vars: &Vars) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if after.is_empty() {
            return None;
        }
        if let Some(tail) = after.strip_prefix('{') {
            out.push('{');
            rest = tail;
            continue;
        }
        let close = after.find('}')?;
        out.push_str(&vars.get(&after[..close])?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out.trim_matches(' ').to_string())
}

/// Redis' load-time check: the template must expand (with an empty title) to
/// something that is not blank.
pub fn valid(template: &str, vars: &Vars) -> bool {
    let probe = Vars {
        title: String::new(),
        ..vars.clone()
    };
    expand(template, &probe).is_some_and(|t| !t.is_empty())
}
