//! The sentinel-mode command table: one [`CmdSpec`] per command and subcommand, as the
//! reference binary reports them (`COMMAND`, `COMMAND DOCS`). Pure data and lookups, below
//! everything that needs it: the ACL model checks rules against it, the dispatcher
//! resolves names with it and `COMMAND` renders it.

mod data;

pub use data::COMMANDS;

/// A node of `COMMAND DOCS` output, kept generic so the docs can be reproduced exactly.
#[derive(Debug)]
pub enum Doc {
    /// Bulk string.
    B(&'static str),
    /// Simple string.
    S(&'static str),
    I(i64),
    A(&'static [Doc]),
    /// Set (array in RESP2).
    T(&'static [Doc]),
    M(&'static [(&'static str, Doc)]),
}

/// One command or subcommand. `name` is the full lower-case name (`client|list`).
#[derive(Debug)]
pub struct CmdSpec {
    pub name: &'static str,
    pub arity: i32,
    pub flags: &'static [&'static str],
    pub acl: &'static [&'static str],
    pub tips: &'static [&'static str],
    pub docs: &'static [(&'static str, Doc)],
    pub subs: &'static [CmdSpec],
}

/// A top-level command by canonical name.
pub fn find(name: &str) -> Option<&'static CmdSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Valkey 8's spellings of SENTINEL subcommands (`primary` for `master`), not in the
/// generated table (COMMAND lists exactly what redis-sentinel 7.0.15 lists): each is
/// the subcommand it renames for dispatch, arity and ACL rules.
pub const SUB_ALIASES: &[(&str, &str)] = &[
    ("sentinel|primary", "sentinel|master"),
    ("sentinel|primaries", "sentinel|masters"),
    (
        "sentinel|get-primary-addr-by-name",
        "sentinel|get-master-addr-by-name",
    ),
    (
        "sentinel|is-primary-down-by-addr",
        "sentinel|is-master-down-by-addr",
    ),
];

/// A subcommand of `parent` by the name a client sent (any case), aliases included.
pub fn find_sub(parent: &'static CmdSpec, sub: &[u8]) -> Option<&'static CmdSpec> {
    find_sub_as(parent, sub).map(|(spec, _)| spec)
}

/// [`find_sub`], with the alias the client used if it used one (what [`alias_name`]
/// gives: no alias is also the name of a subcommand, so a direct match used none).
pub fn find_sub_as(
    parent: &'static CmdSpec,
    sub: &[u8],
) -> Option<(&'static CmdSpec, Option<&'static str>)> {
    // No allocation, and names are only compared once their lengths match: this runs
    // for every SENTINEL request.
    let by_name = |n: &[u8]| {
        parent.subs.iter().find(|s| {
            (s.name.len() == parent.name.len() + 1 + n.len() || s.name.len() == n.len())
                && sub_part(parent, s.name).eq_ignore_ascii_case(n)
        })
    };
    if let Some(spec) = by_name(sub) {
        return Some((spec, None));
    }
    let (alias, target) = SUB_ALIASES
        .iter()
        .find(|(a, _)| is_sub_of(parent, a, sub))?;
    Some((by_name(target.split('|').nth(1)?.as_bytes())?, Some(*alias)))
}

/// The `sub` of `parent|sub` (the whole name if it is not one of `parent`'s).
fn sub_part<'a>(parent: &CmdSpec, full: &'a str) -> &'a [u8] {
    full.strip_prefix(parent.name)
        .and_then(|r| r.strip_prefix('|'))
        .unwrap_or(full)
        .as_bytes()
}

/// Whether `full` is `parent|sub`, `sub` in any case.
fn is_sub_of(parent: &CmdSpec, full: &str, sub: &[u8]) -> bool {
    full.len() == parent.name.len() + 1 + sub.len()
        && full
            .strip_prefix(parent.name)
            .and_then(|r| r.strip_prefix('|'))
            .is_some_and(|r| r.as_bytes().eq_ignore_ascii_case(sub))
}

/// The alias (`sentinel|primary`) a client used for a subcommand of `parent`, if the
/// name it sent is one of [`SUB_ALIASES`]: errors name the command as it was called.
pub fn alias_name(parent: &CmdSpec, sub: &[u8]) -> Option<&'static str> {
    SUB_ALIASES
        .iter()
        .find(|(a, _)| is_sub_of(parent, a, sub))
        .map(|(a, _)| *a)
}

/// `name` or `parent|sub`, any case.
pub fn find_full(name: &[u8]) -> Option<&'static CmdSpec> {
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    match lower.split_once('|') {
        None => find(&lower),
        Some((p, s)) => find_sub(find(p)?, s.as_bytes()),
    }
}

/// Every command and subcommand, parents first, in table order.
pub fn all_names() -> impl Iterator<Item = &'static CmdSpec> {
    COMMANDS
        .iter()
        .flat_map(|c| std::iter::once(c).chain(c.subs.iter()))
}
