//! `COMMAND` and its subcommands: renders the table of [`crate::command_table`].

use super::{Ctx, is};
use crate::glob::glob_match;
use crate::resp::Reply;
use bytes::Bytes;

use crate::command_table::{COMMANDS, CmdSpec, Doc, all_names, find_full};

fn strings(v: &[&str], status: bool) -> Vec<Reply> {
    v.iter()
        .map(|s| {
            if status {
                Reply::Status(s.to_string())
            } else {
                Reply::bulk(s)
            }
        })
        .collect()
}

/// The 10-element `COMMAND INFO` entry.
pub fn info_reply(c: &CmdSpec) -> Reply {
    Reply::Array(vec![
        Reply::bulk(c.name),
        Reply::Int(c.arity as i64),
        Reply::Set(strings(c.flags, true)),
        Reply::Int(0),
        Reply::Int(0),
        Reply::Int(0),
        Reply::Set(strings(c.acl, true)),
        Reply::Set(strings(c.tips, false)),
        Reply::Set(Vec::new()),
        Reply::Set(c.subs.iter().map(info_reply).collect()),
    ])
}

fn doc_reply(d: &Doc) -> Reply {
    match d {
        Doc::B(s) => Reply::bulk(s),
        Doc::S(s) => Reply::Status(s.to_string()),
        Doc::I(i) => Reply::Int(*i),
        Doc::A(items) => Reply::Array(items.iter().map(doc_reply).collect()),
        Doc::T(items) => Reply::Set(items.iter().map(doc_reply).collect()),
        Doc::M(pairs) => Reply::Map(
            pairs
                .iter()
                .map(|(k, v)| (Reply::bulk(k), doc_reply(v)))
                .collect(),
        ),
    }
}

/// The documentation map of one command (subcommands nested last).
pub fn docs_reply(c: &CmdSpec) -> Reply {
    let mut pairs: Vec<(Reply, Reply)> = c
        .docs
        .iter()
        .map(|(k, v)| (Reply::bulk(k), doc_reply(v)))
        .collect();
    if !c.subs.is_empty() {
        pairs.push((
            Reply::bulk("subcommands"),
            Reply::Map(
                c.subs
                    .iter()
                    .map(|s| (Reply::bulk(s.name), docs_reply(s)))
                    .collect(),
            ),
        ));
    }
    Reply::Map(pairs)
}

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

pub fn help_reply(lines: &[&str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::Status(l.to_string())).collect())
}

/// `COMMAND [COUNT|LIST|INFO|DOCS|GETKEYS|GETKEYSANDFLAGS|HELP]`; arity of each
/// subcommand was checked by the dispatcher.
pub fn command(ctx: &mut Ctx, args: &[Bytes]) {
    if args.len() == 1 {
        let r = Reply::Array(COMMANDS.iter().map(info_reply).collect());
        return ctx.reply(r);
    }
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    match sub.as_str() {
        "count" => ctx.reply(Reply::Int(COMMANDS.len() as i64)),
        "help" => ctx.reply(help_reply(HELP)),
        "list" => list(ctx, &args[2..]),
        "info" => {
            let r = if args.len() == 2 {
                Reply::Array(COMMANDS.iter().map(info_reply).collect())
            } else {
                Reply::Array(
                    args[2..]
                        .iter()
                        .map(|n| find_full(n).map_or(Reply::Null, info_reply))
                        .collect(),
                )
            };
            ctx.reply(r)
        }
        "docs" => {
            let pairs: Vec<(Reply, Reply)> = if args.len() == 2 {
                COMMANDS
                    .iter()
                    .map(|c| (Reply::bulk(c.name), docs_reply(c)))
                    .collect()
            } else {
                args[2..]
                    .iter()
                    .filter_map(|n| find_full(n))
                    .map(|c| (Reply::bulk(c.name), docs_reply(c)))
                    .collect()
            };
            ctx.reply(Reply::Map(pairs))
        }
        _ => {
            // getkeys / getkeysandflags
            match find_full(&args[2]) {
                None => ctx.error("ERR Invalid command specified"),
                Some(c)
                    if (c.arity > 0 && args.len() - 2 != c.arity as usize)
                        || (c.arity < 0 && args.len() - 2 < (-c.arity) as usize) =>
                {
                    ctx.error("ERR Invalid number of arguments specified for command")
                }
                Some(_) => ctx.error("ERR The command has no key arguments"),
            }
        }
    }
}

fn list(ctx: &mut Ctx, rest: &[Bytes]) {
    let names: Vec<Reply> = match rest {
        [] => all_names().map(|c| Reply::bulk(c.name)).collect(),
        [f, kind, value] if is(f, "filterby") => {
            let v = String::from_utf8_lossy(value).to_ascii_lowercase();
            if is(kind, "module") {
                Vec::new()
            } else if is(kind, "aclcat") {
                let cat = format!("@{v}");
                all_names()
                    .filter(|c| c.acl.contains(&cat.as_str()))
                    .map(|c| Reply::bulk(c.name))
                    .collect()
            } else if is(kind, "pattern") {
                all_names()
                    .filter(|c| glob_match(value, c.name.as_bytes(), true))
                    .map(|c| Reply::bulk(c.name))
                    .collect()
            } else {
                return ctx.error("ERR syntax error");
            }
        }
        _ => return ctx.error("ERR syntax error"),
    };
    ctx.reply(Reply::Array(names))
}
