//! ACL users of the sentinel's client port: `requirepass` (the `default` user's
//! password), `user` directives and `ACL SETUSER`. Only what a sentinel needs: on/off,
//! passwords (stored as SHA-256 hex like Redis), nopass, key/channel patterns kept for
//! display, and command rules evaluated per command and category.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub enabled: bool,
    pub nopass: bool,
    pub sanitize_payload: bool,
    /// SHA-256 hex of each password, in insertion order.
    pub passwords: Vec<String>,
    /// Key patterns (`*` for allkeys).
    pub keys: Vec<String>,
    /// Channel patterns (`*` for allchannels); empty renders as `resetchannels`.
    pub channels: Vec<String>,
    /// Command rules in order, e.g. `+@all`, `-config`; starts as `-@all`.
    pub rules: Vec<String>,
}

impl User {
    /// A user as `ACL SETUSER` creates it: off, no passwords, no keys, no channels.
    pub fn new(name: &str) -> Self {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            sanitize_payload: false,
            passwords: Vec::new(),
            keys: Vec::new(),
            channels: Vec::new(),
            rules: Vec::new(),
        }
    }

    /// The built-in `default` user: `on nopass ~* &* +@all`.
    pub fn default_user() -> Self {
        let mut u = User::new("default");
        u.enabled = true;
        u.nopass = true;
        u.keys = vec!["*".into()];
        u.channels = vec!["*".into()];
        u.rules = vec!["+@all".into()];
        u
    }

    /// Apply one ACL rule; `Err` carries the reason for the error reply.
    pub fn apply(&mut self, rule: &str) -> Result<(), String> {
        let lower = rule.to_ascii_lowercase();
        match lower.as_str() {
            "on" => self.enabled = true,
            "off" => self.enabled = false,
            "nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            "resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            "allkeys" => self.keys = vec!["*".into()],
            "resetkeys" => self.keys.clear(),
            "allchannels" => self.channels = vec!["*".into()],
            "resetchannels" => self.channels.clear(),
            "allcommands" => self.rules = vec!["+@all".into()],
            "nocommands" => self.rules.clear(),
            "sanitize-payload" => self.sanitize_payload = true,
            "skip-sanitize-payload" => self.sanitize_payload = false,
            "reset" => {
                let name = std::mem::take(&mut self.name);
                *self = User::new(&name);
                self.sanitize_payload = true;
            }
            _ => return self.apply_prefixed(rule),
        }
        Ok(())
    }

    fn apply_prefixed(&mut self, rule: &str) -> Result<(), String> {
        let (first, rest) = rule.split_at(rule.chars().next().map_or(0, char::len_utf8));
        match first {
            ">" => {
                let h = sha256_hex(rest.as_bytes());
                if !self.passwords.contains(&h) {
                    self.passwords.push(h);
                }
                self.nopass = false;
            }
            "<" => {
                let h = sha256_hex(rest.as_bytes());
                self.passwords.retain(|p| *p != h);
            }
            "#" | "!" => {
                if rest.len() != 64 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters".into());
                }
                let h = rest.to_ascii_lowercase();
                if first == "#" {
                    if !self.passwords.contains(&h) {
                        self.passwords.push(h);
                    }
                    self.nopass = false;
                } else {
                    self.passwords.retain(|p| *p != h);
                }
            }
            "~" => {
                if rest == "*" {
                    self.keys = vec!["*".into()];
                } else if !self.keys.iter().any(|k| k == "*") {
                    self.keys.push(rest.to_string());
                }
            }
            "&" => {
                if rest == "*" {
                    self.channels = vec!["*".into()];
                } else if !self.channels.iter().any(|k| k == "*") {
                    self.channels.push(rest.to_string());
                }
            }
            "+" | "-" => {
                let r = rule.to_ascii_lowercase();
                if r == "+@all" || r == "-@all" {
                    self.rules.clear();
                    if r == "+@all" {
                        self.rules.push(r);
                    }
                } else {
                    self.rules.push(r);
                }
            }
            _ => return Err("Syntax error".into()),
        }
        Ok(())
    }

    /// Whether this user may run the command `fullname` (`parent|sub` or `name`) whose
    /// ACL categories (without `@`) are `cats`.
    pub fn can_run(&self, fullname: &str, cats: &[&str]) -> bool {
        let parent = fullname.split('|').next().unwrap_or(fullname);
        let mut allowed = false;
        for r in &self.rules {
            let (allow, what) = (r.starts_with('+'), &r[1..]);
            let hit = match what.strip_prefix('@') {
                Some("all") => true,
                Some(cat) => cats.iter().any(|c| c.trim_start_matches('@') == cat),
                None => what == fullname || what == parent,
            };
            if hit {
                allowed = allow;
            }
        }
        allowed
    }

    /// The `ACL LIST` line.
    pub fn describe(&self) -> String {
        let mut s = format!("user {}", self.name);
        s.push_str(if self.enabled { " on" } else { " off" });
        if self.nopass {
            s.push_str(" nopass");
        }
        if self.sanitize_payload {
            s.push_str(" sanitize-payload");
        }
        for p in &self.passwords {
            s.push_str(&format!(" #{p}"));
        }
        for k in &self.keys {
            s.push_str(&format!(" ~{k}"));
        }
        if self.channels.is_empty() {
            s.push_str(" resetchannels");
        }
        for c in &self.channels {
            s.push_str(&format!(" &{c}"));
        }
        if self.rules.is_empty() {
            s.push_str(" -@all");
        }
        for r in &self.rules {
            s.push_str(&format!(" {r}"));
        }
        s
    }

    /// The `commands` field of `ACL GETUSER`.
    pub fn commands_text(&self) -> String {
        if self.rules.is_empty() {
            "-@all".into()
        } else {
            self.rules.join(" ")
        }
    }
}

/// The user table, sorted by name like Redis' radix tree.
#[derive(Debug, Clone)]
pub struct Users {
    pub users: BTreeMap<String, User>,
}

impl Users {
    /// Build from config: the default user, then `requirepass`, then each `user` line
    /// (a `user default ...` line resets the default user first, as Redis does).
    pub fn from_config(requirepass: Option<&str>, lines: &[Vec<String>]) -> Result<Self, String> {
        let mut users = BTreeMap::new();
        let mut def = User::default_user();
        if let Some(pw) = requirepass {
            def.apply("resetpass")?;
            def.apply(&format!(">{pw}"))?;
        }
        users.insert("default".to_string(), def);
        for line in lines {
            let Some((name, rules)) = line.split_first() else {
                continue;
            };
            let mut u = if name == "default" {
                let mut u = users.remove("default").expect("default user");
                u.apply("reset")?;
                u
            } else {
                User::new(name)
            };
            for r in rules {
                u.apply(r)?;
            }
            users.insert(name.clone(), u);
        }
        Ok(Users { users })
    }

    /// Check credentials; `Some(user)` if `pass` opens an enabled `name`.
    pub fn check(&self, name: &str, pass: &[u8]) -> bool {
        match self.users.get(name) {
            Some(u) if u.enabled => u.nopass || u.passwords.contains(&sha256_hex(pass)),
            _ => false,
        }
    }

    /// Whether new connections start unauthenticated (default user needs a password or
    /// is disabled).
    pub fn auth_required(&self) -> bool {
        match self.users.get("default") {
            Some(u) => !(u.enabled && u.nopass),
            None => true,
        }
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
