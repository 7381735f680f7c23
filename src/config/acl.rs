//! Just enough of the ACL user model to write `user` lines the way the 7.0.15 rewrite
//! does (`ACLDescribeUser`): flags, password hashes, key/channel patterns, command rules.
//! Full ACL semantics (command categories, selectors) are out of scope here.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Default)]
struct User {
    name: String,
    enabled: bool,
    nopass: bool,
    sanitize: bool,
    skip_sanitize: bool,
    passwords: Vec<String>,
    allkeys: bool,
    keys: Vec<String>,
    allchannels: bool,
    channels: Vec<String>,
    allcommands: bool,
    commands: Vec<String>,
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl User {
    fn new(name: &str) -> Self {
        User {
            name: name.to_string(),
            ..User::default()
        }
    }

    /// The built-in `default` user, before any `user default` line.
    fn builtin_default(requirepass: Option<&str>) -> Self {
        let mut u = User {
            name: "default".into(),
            enabled: true,
            nopass: true,
            allkeys: true,
            allchannels: true,
            allcommands: true,
            ..User::default()
        };
        if let Some(p) = requirepass {
            u.nopass = false;
            u.passwords.push(sha256_hex(p));
        }
        u
    }

    fn reset(&mut self) {
        let name = std::mem::take(&mut self.name);
        *self = User::new(&name);
        self.sanitize = true;
    }

    fn apply(&mut self, rule: &str) {
        match rule.to_ascii_lowercase().as_str() {
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
            "allkeys" | "~*" => {
                self.allkeys = true;
                self.keys.clear();
            }
            "resetkeys" => {
                self.allkeys = false;
                self.keys.clear();
            }
            "allchannels" | "&*" => {
                self.allchannels = true;
                self.channels.clear();
            }
            "resetchannels" => {
                self.allchannels = false;
                self.channels.clear();
            }
            "allcommands" | "+@all" => {
                self.allcommands = true;
                self.commands.clear();
            }
            "nocommands" | "-@all" => {
                self.allcommands = false;
                self.commands.clear();
            }
            "reset" => self.reset(),
            "sanitize-payload" => {
                self.sanitize = true;
                self.skip_sanitize = false;
            }
            "skip-sanitize-payload" => {
                self.skip_sanitize = true;
                self.sanitize = false;
            }
            _ => self.apply_pattern(rule),
        }
    }

    fn apply_pattern(&mut self, rule: &str) {
        let push = |v: &mut Vec<String>, s: String| {
            if !v.contains(&s) {
                v.push(s)
            }
        };
        if let Some(p) = rule.strip_prefix('>') {
            push(&mut self.passwords, sha256_hex(p));
            self.nopass = false;
        } else if let Some(h) = rule.strip_prefix('#') {
            push(&mut self.passwords, h.to_ascii_lowercase());
            self.nopass = false;
        } else if let Some(p) = rule.strip_prefix('<') {
            let h = sha256_hex(p);
            self.passwords.retain(|x| *x != h);
        } else if let Some(h) = rule.strip_prefix('!') {
            self.passwords.retain(|x| !x.eq_ignore_ascii_case(h));
        } else if rule.starts_with('~') || rule.starts_with('%') {
            if !self.allkeys {
                push(&mut self.keys, rule.to_string());
            }
        } else if rule.starts_with('&') {
            if !self.allchannels {
                push(&mut self.channels, rule.to_string());
            }
        } else if rule.starts_with('+') || rule.starts_with('-') {
            self.commands.push(rule.to_ascii_lowercase());
        }
    }

    fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.push(if self.enabled { "on" } else { "off" }.into());
        if self.nopass {
            parts.push("nopass".into());
        }
        if self.skip_sanitize {
            parts.push("skip-sanitize-payload".into());
        }
        if self.sanitize {
            parts.push("sanitize-payload".into());
        }
        parts.extend(self.passwords.iter().map(|h| format!("#{h}")));
        if self.allkeys {
            parts.push("~*".into());
        } else {
            parts.extend(self.keys.iter().cloned());
        }
        if self.allchannels {
            parts.push("&*".into());
        } else {
            parts.push("resetchannels".into());
            parts.extend(self.channels.iter().cloned());
        }
        if self.allcommands && self.commands.is_empty() {
            parts.push("+@all".into());
        } else {
            parts.push(if self.allcommands { "+@all" } else { "-@all" }.into());
            parts.extend(self.commands.iter().cloned());
        }
        format!("user {} {}", self.name, parts.join(" "))
    }
}

/// The `user ...` lines the rewrite emits for the given `user` directives (arguments
/// after `user`) and `requirepass`, sorted by user name like Redis' radix tree.
pub fn describe_users(users: &[Vec<String>], requirepass: Option<&str>) -> Vec<String> {
    let mut all = vec![User::builtin_default(requirepass)];
    for rules in users {
        let Some(name) = rules.first() else { continue };
        let idx = match all.iter().position(|u| u.name == *name) {
            Some(i) => {
                // Only `default` can already exist: it is reset first.
                all[i].reset();
                i
            }
            None => {
                all.push(User::new(name));
                all.len() - 1
            }
        };
        for r in &rules[1..] {
            all[idx].apply(r);
        }
    }
    all.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    all.iter().map(User::describe).collect()
}
