//! ACL selectors as Redis 7.0 models them: a bitmap over every command and subcommand
//! id, plus key and channel patterns. Rules are compiled into the bitmap at once and
//! the text form is *recomputed* from it ([`Selector::describe_rules`]), which is why
//! `ACL LIST` shows `-@all +@connection` for rules given in another order or shape.

use crate::command_table::{COMMANDS, CmdSpec};
use std::sync::OnceLock;

/// Category names in Redis' `ACLCommandCategories` order (the describe loop scans in it).
pub const CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Why a rule was refused; [`AclErr::message`] gives Redis' text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclErr {
    /// ENOENT: unknown command or category. Ignored while validating config lines.
    Unknown,
    Syntax,
    KeyAfterAll,
    ChannelAfterAll,
    NoSuchPassword,
    BadHash,
    Duplicate,
    FirstArgOfSub,
}

impl AclErr {
    pub fn message(self) -> &'static str {
        match self {
            AclErr::Unknown => "Unknown command or category name in ACL",
            AclErr::Syntax => "Syntax error",
            AclErr::KeyAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            AclErr::ChannelAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            AclErr::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            AclErr::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            AclErr::Duplicate => {
                "Duplicate user found. A user can only be defined once in config files"
            }
            AclErr::FirstArgOfSub => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Every command and subcommand in table order; the index is the ACL command id.
pub fn all_commands() -> &'static [&'static CmdSpec] {
    static IDS: OnceLock<Vec<&'static CmdSpec>> = OnceLock::new();
    IDS.get_or_init(|| {
        COMMANDS
            .iter()
            .flat_map(|c| std::iter::once(c).chain(c.subs.iter()))
            .collect()
    })
}

/// The id of a command spec. Every spec the dispatcher hands out lives in the static
/// table, so its address finds it without comparing names (this runs for every request
/// a restricted user sends); a spec from elsewhere (a copy) is found by its full name.
pub fn id_of(cmd: &CmdSpec) -> usize {
    id_at(cmd as *const CmdSpec as usize).unwrap_or_else(|| {
        all_commands()
            .iter()
            .position(|c| c.name == cmd.name)
            .expect("command in table")
    })
}

/// The id of the table's spec at address `addr`, if there is one.
pub fn id_at(addr: usize) -> Option<usize> {
    static BY_ADDR: OnceLock<Vec<(usize, usize)>> = OnceLock::new();
    let by_addr = BY_ADDR.get_or_init(|| {
        let mut v: Vec<(usize, usize)> = all_commands()
            .iter()
            .enumerate()
            .map(|(id, c)| (*c as *const CmdSpec as usize, id))
            .collect();
        v.sort_unstable();
        v
    });
    let i = by_addr.binary_search_by_key(&addr, |&(a, _)| a).ok()?;
    Some(by_addr[i].1)
}

fn in_category(cmd: &CmdSpec, cat: &str) -> bool {
    cmd.acl.iter().any(|c| c.trim_start_matches('@') == cat)
}

/// Key pattern permission bits (`%R~`, `%W~`, `~` = both).
const READ: u8 = 1;
const WRITE: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// Redis' reserved "future commands" bit: set only by `+@all`/`allcommands`,
    /// cleared only by `-@all`/`nocommands`. It decides whether the description
    /// starts from `+@all` or `-@all`.
    pub all_future: bool,
    /// `SELECTOR_FLAG_ALLCOMMANDS`: everything allowed, cleared by any block.
    pub allcommands: bool,
    pub bits: Vec<bool>,
    /// Allowed first arguments of otherwise blocked commands, by id.
    pub firstargs: Vec<Vec<String>>,
    pub allkeys: bool,
    pub keys: Vec<(String, u8)>,
    pub allchannels: bool,
    pub channels: Vec<String>,
}

impl Selector {
    /// A selector with nothing allowed (`resetkeys resetchannels -@all`).
    pub fn empty() -> Self {
        let n = all_commands().len();
        Selector {
            all_future: false,
            allcommands: false,
            bits: vec![false; n],
            firstargs: vec![Vec::new(); n],
            allkeys: false,
            keys: Vec::new(),
            allchannels: false,
            channels: Vec::new(),
        }
    }

    fn set_bit(&mut self, id: usize, allow: bool) {
        self.bits[id] = allow;
        if !allow {
            self.allcommands = false;
        }
    }

    /// Allow or block a command; a container command carries its subcommands along.
    fn change(&mut self, cmd: &CmdSpec, allow: bool) {
        let id = id_of(cmd);
        self.set_bit(id, allow);
        self.firstargs[id].clear();
        for s in cmd.subs {
            self.set_bit(id_of(s), allow);
        }
    }

    fn set_category(&mut self, cat: &str, allow: bool) -> Result<(), AclErr> {
        let cat = cat.to_ascii_lowercase();
        if !CATEGORIES.contains(&cat.as_str()) {
            return Err(AclErr::Unknown);
        }
        for c in all_commands() {
            if in_category(c, &cat) {
                self.change(c, allow);
            }
        }
        Ok(())
    }

    /// Apply one selector rule (`ACLSetSelector`).
    pub fn apply(&mut self, op: &str) -> Result<(), AclErr> {
        let lower = op.to_ascii_lowercase();
        let b = op.as_bytes();
        match lower.as_str() {
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
                self.bits.iter_mut().for_each(|b| *b = true);
                self.all_future = true;
                self.allcommands = true;
                self.firstargs.iter_mut().for_each(Vec::clear);
            }
            "nocommands" | "-@all" => {
                self.bits.iter_mut().for_each(|b| *b = false);
                self.all_future = false;
                self.allcommands = false;
                self.firstargs.iter_mut().for_each(Vec::clear);
            }
            _ if b.first() == Some(&b'~') || b.first() == Some(&b'%') => self.add_key(op)?,
            _ if b.first() == Some(&b'&') => {
                if self.allchannels {
                    return Err(AclErr::ChannelAfterAll);
                }
                if super::has_spaces(&op.as_bytes()[1..]) {
                    return Err(AclErr::Syntax);
                }
                if !self.channels.iter().any(|c| c == &op[1..]) {
                    self.channels.push(op[1..].to_string());
                }
            }
            _ if (b.first() == Some(&b'+') || b.first() == Some(&b'-'))
                && b.get(1) == Some(&b'@') =>
            {
                self.set_category(&op[2..], b[0] == b'+')?
            }
            _ if b.first() == Some(&b'+') => self.allow_command(&lower[1..])?,
            _ if b.first() == Some(&b'-') => {
                let cmd = crate::command_table::find_full(&lower.as_bytes()[1..])
                    .ok_or(AclErr::Unknown)?;
                self.change(cmd, false);
            }
            _ => return Err(AclErr::Syntax),
        }
        Ok(())
    }

    fn add_key(&mut self, op: &str) -> Result<(), AclErr> {
        if self.allkeys {
            return Err(AclErr::KeyAfterAll);
        }
        let b = op.as_bytes();
        let (mut flags, mut offset) = (0u8, 1);
        if b[0] == b'%' {
            loop {
                match b.get(offset).map(u8::to_ascii_uppercase) {
                    Some(b'R') if flags & READ == 0 => flags |= READ,
                    Some(b'W') if flags & WRITE == 0 => flags |= WRITE,
                    Some(b'~') => {
                        offset += 1;
                        break;
                    }
                    _ => return Err(AclErr::Syntax),
                }
                offset += 1;
            }
        } else {
            flags = READ | WRITE;
        }
        // `%~pattern` without R or W: EINVAL in redis (an empty pattern is accepted).
        if flags == 0 {
            return Err(AclErr::Syntax);
        }
        let pat = &op[offset..];
        if super::has_spaces(pat.as_bytes()) {
            return Err(AclErr::Syntax);
        }
        match self.keys.iter_mut().find(|(p, _)| p == pat) {
            Some(k) => k.1 |= flags,
            None => self.keys.push((pat.to_string(), flags)),
        }
        Ok(())
    }

    /// `+cmd`, `+cmd|sub` (a real subcommand) or `+cmd|first-arg` (legacy first-arg).
    fn allow_command(&mut self, name: &str) -> Result<(), AclErr> {
        use crate::command_table::{find, find_full};
        let Some((parent, sub)) = name.rsplit_once('|') else {
            let cmd = find(name).ok_or(AclErr::Unknown)?;
            self.change(cmd, true);
            return Ok(());
        };
        let Some(cmd) = find_full(parent.as_bytes()) else {
            return Err(AclErr::Unknown);
        };
        if cmd.name.contains('|') {
            return Err(AclErr::FirstArgOfSub);
        }
        if sub.is_empty() {
            return Err(AclErr::Syntax);
        }
        if !cmd.subs.is_empty() {
            let s = find_full(name.as_bytes()).ok_or(AclErr::Unknown)?;
            self.change(s, true);
        } else {
            let fa = &mut self.firstargs[id_of(cmd)];
            if !fa.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                fa.push(sub.to_string());
            }
        }
        Ok(())
    }

    /// Redis' `ACLCheckChannelAgainstList`: a channel must match an allowed pattern; a
    /// pattern (PSUBSCRIBE) is only allowed if it is literally one of them.
    /// The index in `channels` of the first one refused, `None` when all are allowed.
    pub fn first_denied_channel(&self, channels: &[(&[u8], bool)]) -> Option<usize> {
        if self.allchannels {
            return None;
        }
        channels.iter().position(|(ch, is_pattern)| {
            !self.channels.iter().any(|p| {
                if *is_pattern {
                    p.as_bytes() == *ch
                } else {
                    crate::glob::glob_match(p.as_bytes(), ch, false)
                }
            })
        })
    }

    /// Whether this selector lets `cmd` run with `args` (command permission only; a
    /// sentinel has no keys, and channels are checked by [`Self::first_denied_channel`]).
    pub fn allows(&self, cmd: &CmdSpec, args: &[bytes::Bytes]) -> bool {
        if self.allcommands || cmd.flags.contains(&"no_auth") {
            return true;
        }
        let id = id_of(cmd);
        if self.bits[id] {
            return true;
        }
        let idx = if cmd.name.contains('|') { 2 } else { 1 };
        match args.get(idx) {
            Some(a) if args.len() >= 2 => self.firstargs[id]
                .iter()
                .any(|f| f.as_bytes().eq_ignore_ascii_case(a)),
            _ => false,
        }
    }

    fn count(&self, cat: &str) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for (id, c) in all_commands().iter().enumerate() {
            if in_category(c, cat) {
                if self.bits[id] {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// The command rules recomputed from the bitmap (`ACLDescribeSelectorCommandRules`):
    /// `+@all`/`-@all`, then best-fitting categories, then single-command fixes.
    pub fn describe_rules(&self) -> String {
        let additive = !self.all_future;
        let mut rules = vec![if additive { "-@all" } else { "+@all" }.to_string()];
        let mut fake = Selector::empty();
        let _ = fake.apply(&rules[0]);
        let mut temp = self.clone();
        let mut applied = [false; CATEGORIES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, cat) in CATEGORIES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count(cat);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let _ = fake.set_category(CATEGORIES[j], additive);
            let _ = temp.set_category(CATEGORIES[j], !additive);
            rules.push(format!(
                "{}@{}",
                if additive { '+' } else { '-' },
                CATEGORIES[j]
            ));
            applied[j] = true;
        }
        for (id, c) in all_commands().iter().enumerate() {
            if self.bits[id] != fake.bits[id] {
                rules.push(format!(
                    "{}{}",
                    if self.bits[id] { '+' } else { '-' },
                    c.name
                ));
                fake.change(c, self.bits[id]);
            }
            if !self.bits[id] {
                for a in &self.firstargs[id] {
                    rules.push(format!("+{}|{a}", c.name));
                }
            }
        }
        rules.join(" ")
    }

    /// The `keys` part of the description, each pattern as `~p`, `%R~p` or `%W~p`.
    pub fn describe_keys(&self) -> Vec<String> {
        if self.allkeys {
            return vec!["~*".into()];
        }
        self.keys
            .iter()
            .map(|(p, f)| match *f {
                READ => format!("%R~{p}"),
                WRITE => format!("%W~{p}"),
                _ => format!("~{p}"),
            })
            .collect()
    }

    /// `ACLDescribeSelector`: keys, channels, command rules.
    pub fn describe(&self) -> String {
        let mut parts = self.describe_keys();
        if self.allchannels {
            parts.push("&*".into());
        } else {
            parts.push("resetchannels".into());
            parts.extend(self.channels.iter().map(|c| format!("&{c}")));
        }
        parts.push(self.describe_rules());
        parts.join(" ")
    }
}

/// The channels a command touches, with whether each is a pattern: SUBSCRIBE and
/// PUBLISH name channels, PSUBSCRIBE patterns. (P)UNSUBSCRIBE are never checked. In
/// argument order: the i-th is the command's argument i + 1.
pub fn command_channels<'a>(name: &str, args: &'a [bytes::Bytes]) -> Vec<(&'a [u8], bool)> {
    match name {
        "subscribe" => args.iter().skip(1).map(|a| (a.as_ref(), false)).collect(),
        "psubscribe" => args.iter().skip(1).map(|a| (a.as_ref(), true)).collect(),
        "publish" => args
            .get(1)
            .map(|a| vec![(a.as_ref(), false)])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
