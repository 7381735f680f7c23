//! ACL users of the sentinel's client port: `requirepass` (the `default` user's
//! password), `user` directives and `ACL SETUSER`. Users carry Redis' flags, password
//! hashes (SHA-256 hex) and selectors ([`Selector`]: the root one plus `(...)` ones);
//! the text forms (`ACL LIST`, `ACL GETUSER`, the config rewrite) are recomputed from
//! that state exactly as Redis 7.0 does.

pub mod selector;

pub use self::selector::{AclErr, CATEGORIES, Selector};
use crate::command_table::CmdSpec;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub enabled: bool,
    pub nopass: bool,
    /// `sanitize-payload` (Some(true)), `skip-sanitize-payload` (Some(false)) or neither.
    pub sanitize: Option<bool>,
    /// SHA-256 hex of each password, in insertion order.
    pub passwords: Vec<String>,
    pub root: Selector,
    /// Extra `(...)` selectors, in creation order.
    pub selectors: Vec<Selector>,
}

impl User {
    /// A user as `ACL SETUSER` creates it: off, no passwords, keys, channels or commands.
    pub fn new(name: &str) -> Self {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            root: Selector::empty(),
            selectors: Vec::new(),
        }
    }

    /// The built-in `default` user: `on nopass ~* &* +@all`.
    pub fn default_user() -> Self {
        let mut u = User::new("default");
        for r in ["+@all", "~*", "&*", "on", "nopass"] {
            u.apply(r).expect("default user rule");
        }
        u
    }

    /// Apply one ACL rule (`ACLSetUser`).
    pub fn apply(&mut self, op: &str) -> Result<(), AclErr> {
        if op.is_empty() {
            return Ok(());
        }
        match op.to_ascii_lowercase().as_str() {
            "on" => self.enabled = true,
            "off" => self.enabled = false,
            "skip-sanitize-payload" => self.sanitize = Some(false),
            "sanitize-payload" => self.sanitize = Some(true),
            "nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            "resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            "clearselectors" => self.selectors.clear(),
            "reset" => {
                for r in ["resetpass", "resetkeys", "resetchannels", "off"] {
                    self.apply(r)?;
                }
                self.sanitize = Some(true);
                self.selectors.clear();
                self.apply("-@all")?;
            }
            _ => return self.apply_prefixed(op),
        }
        Ok(())
    }

    fn apply_prefixed(&mut self, op: &str) -> Result<(), AclErr> {
        let Some(&first) = op.as_bytes().first() else {
            return self.root.apply(op);
        };
        // Only read for ASCII prefixes; `op` may start with a multi-byte character.
        let rest = op.get(1..).unwrap_or_default();
        match first {
            b'>' | b'#' => {
                let h = if first == b'>' {
                    sha256_hex(rest.as_bytes())
                } else {
                    check_hash(rest)?
                };
                if !self.passwords.contains(&h) {
                    self.passwords.push(h);
                }
                self.nopass = false;
            }
            b'<' | b'!' => {
                let h = if first == b'<' {
                    sha256_hex(rest.as_bytes())
                } else {
                    check_hash(rest)?
                };
                let before = self.passwords.len();
                self.passwords.retain(|p| *p != h);
                if self.passwords.len() == before {
                    return Err(AclErr::NoSuchPassword);
                }
            }
            b'(' if op.ends_with(')') && op.len() >= 2 => {
                let mut s = Selector::empty();
                let inner = &op[1..op.len() - 1];
                let ops = crate::resp::sds::split_args(inner).ok_or(AclErr::Syntax)?;
                for o in ops {
                    s.apply(&o)?;
                }
                self.selectors.push(s);
            }
            _ => self.root.apply(op)?,
        }
        Ok(())
    }

    /// Whether this user may run `cmd` with `args` (any selector allowing it suffices).
    pub fn can_run(&self, cmd: &CmdSpec, args: &[bytes::Bytes]) -> bool {
        self.check(cmd, args).is_ok()
    }

    /// Redis' `ACLCheckAllUserCommandPerm`: one selector must allow both the command and
    /// every channel it touches. When none does, the most specific denial wins (a
    /// channel denial over a command denial), as in Redis.
    pub fn check(&self, cmd: &CmdSpec, args: &[bytes::Bytes]) -> Result<(), Denied> {
        // The usual user (`+@all` and `&*` in the root selector) is allowed without
        // listing the channels: this runs for every command.
        if self.root.allcommands && self.root.allchannels {
            return Ok(());
        }
        let channels = crate::acl::selector::command_channels(cmd.name, args);
        self.check_channels(cmd, args, &channels)
    }

    /// [`Self::check`] for an explicit list of (channel, is-pattern).
    pub fn check_channels(
        &self,
        cmd: &CmdSpec,
        args: &[bytes::Bytes],
        channels: &[(&[u8], bool)],
    ) -> Result<(), Denied> {
        // Redis' `ACLCheckAllUserCommandPerm`: a channel refusal outranks a command one,
        // and among selectors the refused channel furthest into the arguments is named.
        let mut denied = Denied::Command;
        for s in std::iter::once(&self.root).chain(self.selectors.iter()) {
            if !s.allows(cmd, args) {
                continue;
            }
            match s.first_denied_channel(channels) {
                None => return Ok(()),
                Some(i) => {
                    if !matches!(denied, Denied::Channel(j) if j >= i) {
                        denied = Denied::Channel(i);
                    }
                }
            }
        }
        Err(denied)
    }

    /// Flag names in Redis' `ACLUserFlags` order.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        match self.sanitize {
            Some(false) => f.push("skip-sanitize-payload"),
            Some(true) => f.push("sanitize-payload"),
            None => {}
        }
        f
    }

    /// The `ACL LIST` line (`ACLDescribeUser`), also used by the config rewrite.
    pub fn describe(&self) -> String {
        let mut s = format!("user {}", self.name);
        for f in self.flags() {
            s.push(' ');
            s.push_str(f);
        }
        for p in &self.passwords {
            s.push_str(&format!(" #{p}"));
        }
        s.push(' ');
        s.push_str(&self.root.describe());
        for sel in &self.selectors {
            s.push_str(&format!(" ({})", sel.describe()));
        }
        s
    }
}

/// `#<hash>` / `!<hash>` need exactly 64 lower-case hex characters.
fn check_hash(h: &str) -> Result<String, AclErr> {
    if h.len() == 64
        && h.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(h.to_string())
    } else {
        Err(AclErr::BadHash)
    }
}

/// A `user` config line that cannot be loaded: `arg` is the index Redis reports
/// (`Error in user declaration '<line word at that index>': <message>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLineError {
    pub arg: usize,
    pub err: AclErr,
}

/// Redis' `ACLStringHasSpaces`: C `isspace()` or NUL anywhere. User names and key and
/// channel patterns with one are refused: they could not be written back to the config
/// file (a newline would break its line), so neither the start-up nor `ACL SETUSER`
/// accepts them.
pub fn has_spaces(name: &[u8]) -> bool {
    name.iter()
        .any(|&b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0))
}

/// Redis' `ACLMergeSelectorArguments`: a selector may be spread over several arguments,
/// `(~k* +@all)` given as `(~k*` and `+@all)` (its own config rewrite writes it that way,
/// unquoted). An argument starting with `(` and not ending with `)` opens one, the one
/// ending with `)` closes it; they are joined with spaces. `Err` is the index of an
/// opening argument never closed.
pub fn merge_selector_args<S: AsRef<str>>(args: &[S]) -> Result<Vec<String>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, String)> = None;
    for (j, a) in args.iter().enumerate() {
        let a = a.as_ref();
        // As in redis, an opening argument starts over even inside an open selector.
        if a.starts_with('(') && !a.ends_with(')') {
            open = Some((j, a.to_string()));
        } else if let Some((_, sel)) = open.as_mut() {
            sel.push(' ');
            sel.push_str(a);
            if a.ends_with(')') {
                out.push(open.take().expect("open").1);
            }
        } else {
            out.push(a.to_string());
        }
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// Check a `user` directive (arguments after `user`) the way the config loader does:
/// every rule must parse, except unknown commands/categories, which are only reported
/// once the users are actually created ([`Users::from_config`]).
pub fn validate_user_line(args: &[String], seen: &[Vec<String>]) -> Result<(), UserLineError> {
    // A name with spaces loads here and fails at start-up ([`Users::from_config`]), as in
    // redis-sentinel, whose config loader does not look at the name.
    let Some((name, rules)) = args.split_first() else {
        return Ok(());
    };
    if seen.iter().any(|l| l.first() == Some(name)) {
        return Err(UserLineError {
            arg: 1,
            err: AclErr::Duplicate,
        });
    }
    // Redis reports an unclosed selector with whatever `errno` says; at config load that
    // reads "Unknown command or category name in ACL", and the argument shown is the
    // opening one's index applied to the whole line (its quirk, as for every rule below:
    // the index counts merged rules).
    let rules = merge_selector_args(rules).map_err(|arg| UserLineError {
        arg,
        err: AclErr::Unknown,
    })?;
    let mut fake = User::new(name);
    for (i, r) in rules.iter().enumerate() {
        match fake.apply(r) {
            Ok(()) | Err(AclErr::Unknown) => {}
            Err(err) => return Err(UserLineError { arg: i, err }),
        }
    }
    Ok(())
}

/// The user table, sorted by name like Redis' radix tree.
#[derive(Debug, Clone)]
pub struct Users {
    pub users: BTreeMap<String, User>,
}

impl Users {
    /// Build from config: the default user, then `requirepass`, then each `user` line
    /// (a `user default ...` line resets the default user first, as Redis does).
    /// `Err` is the log line Redis writes before exiting ("Error loading ACL rule ...").
    pub fn from_config(requirepass: Option<&str>, lines: &[Vec<String>]) -> Result<Self, String> {
        let mut users = BTreeMap::new();
        let mut def = User::default_user();
        if let Some(pw) = requirepass {
            def.passwords = vec![sha256_hex(pw.as_bytes())];
            def.nopass = false;
        }
        users.insert("default".to_string(), def);
        for line in lines {
            let Some((name, rules)) = line.split_first() else {
                continue;
            };
            if has_spaces(name.as_bytes()) {
                return Err("Spaces not allowed in ACL usernames".to_string());
            }
            let mut u = match users.remove(name) {
                Some(mut u) => {
                    let _ = u.apply("reset");
                    u
                }
                None => User::new(name),
            };
            // Lines were checked at load (`validate_user_line`): selectors are closed.
            let rules = merge_selector_args(rules).unwrap_or_else(|_| rules.to_vec());
            for r in &rules {
                if let Err(e) = u.apply(r) {
                    return Err(format!(
                        "Error loading ACL rule '{r}' for the user named '{name}': {}",
                        e.message()
                    ));
                }
            }
            users.insert(name.clone(), u);
        }
        Ok(Users { users })
    }

    /// Whether `pass` opens the enabled user `name`.
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

    /// `ACL LIST` / rewrite lines, by user name.
    pub fn describe_all(&self) -> Vec<String> {
        self.users.values().map(User::describe).collect()
    }
}

/// Why a command was refused by the ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Command,
    /// The channel at this index of the checked list (for a command's own channels,
    /// [`selector::command_channels`], argument index + 1).
    Channel(usize),
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
