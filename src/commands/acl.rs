//! ACL in sentinel mode: users live in memory only (no aclfile: LOAD and SAVE fail as
//! in 7.0.15), categories come from the reduced command table.

use super::command::help_reply;
use super::{Ctx, int_arg, is};
use crate::acl::selector::command_channels;
use crate::acl::{CATEGORIES, Denied, Selector, User};
use crate::command_table::{COMMANDS, CmdSpec};
use crate::resp::Reply;
use bytes::Bytes;

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

const ACL_HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];

pub fn acl(ctx: &mut Ctx, args: &[Bytes]) {
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    // Redis' `aclCommand` takes these with at most one argument (`argc <= 3`); the
    // table's arity (-2) lets more through to its catch-all error.
    if matches!(sub.as_str(), "cat" | "genpass" | "log") && args.len() > 3 {
        return ctx.error(super::subcommand_syntax_error(&args[1], "ACL"));
    }
    match sub.as_str() {
        "whoami" => {
            let u = ctx.sess.client.state().user.clone();
            ctx.reply(Reply::bulk(u))
        }
        "users" => {
            let names: Vec<Reply> = ctx.state.users().users.keys().map(Reply::bulk).collect();
            ctx.reply(Reply::Array(names))
        }
        "list" => {
            let lines: Vec<Reply> = ctx
                .state
                .users()
                .users
                .values()
                .map(|u| Reply::bulk(u.describe()))
                .collect();
            ctx.reply(Reply::Array(lines))
        }
        "cat" => cat(ctx, args.get(2)),
        "getuser" => {
            let name = String::from_utf8_lossy(&args[2]).into_owned();
            let user = ctx.state.users().users.get(&name).cloned();
            ctx.reply(user.map_or(Reply::Null, |u| getuser(&u)))
        }
        "setuser" => setuser(ctx, args),
        "deluser" => {
            let mut n = 0;
            for a in &args[2..] {
                let name = String::from_utf8_lossy(a).into_owned();
                if name == "default" {
                    return ctx.error("ERR The 'default' user cannot be removed");
                }
                if ctx.state.users_mut().users.remove(&name).is_some() {
                    n += 1;
                    kill_user_clients(ctx, &name);
                }
            }
            ctx.reply(Reply::Int(n))
        }
        "genpass" => {
            let bits = match args.get(2) {
                None => 256,
                Some(b) => match int_arg(b) {
                    Some(v) if v > 0 && v <= 4096 => v as usize,
                    Some(_) => return ctx.error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"),
                    None => return ctx.error("ERR value is not an integer or out of range"),
                },
            };
            let chars = bits.div_ceil(4);
            let pass: String = (0..chars)
                .map(|_| std::char::from_digit(rand::random::<u32>() % 16, 16).unwrap())
                .collect();
            ctx.reply(Reply::bulk(pass))
        }
        "log" => log(ctx, args.get(2)),
        "dryrun" => dryrun(ctx, args),
        "load" | "save" => ctx.error(NO_ACLFILE),
        _ => ctx.reply(help_reply(ACL_HELP)),
    }
}

/// `ACL LOG [count|RESET]`: the newest entries first, 10 unless a count is given.
fn log(ctx: &mut Ctx, arg: Option<&Bytes>) {
    let count = match arg {
        None => 10,
        Some(a) if is(a, "reset") => {
            ctx.state.acl_log().reset();
            return ctx.reply(Reply::ok());
        }
        Some(a) => match int_arg(a) {
            Some(n) => n.max(0) as usize,
            None => return ctx.error("ERR value is not an integer or out of range"),
        },
    };
    let now = std::time::Instant::now();
    let entries = ctx
        .state
        .acl_log()
        .newest(count)
        .map(|e| {
            // Whole milliseconds, as Redis' `mstime` difference.
            let age = now.saturating_duration_since(e.at).as_millis();
            Reply::Map(vec![
                (Reply::bulk("count"), Reply::Int(e.count as i64)),
                (Reply::bulk("reason"), Reply::bulk(e.reason.name())),
                // A sentinel runs no MULTI and no scripts.
                (Reply::bulk("context"), Reply::bulk("toplevel")),
                (Reply::bulk("object"), Reply::Bulk(e.object.clone())),
                (Reply::bulk("username"), Reply::Bulk(e.username.clone())),
                (
                    Reply::bulk("age-seconds"),
                    Reply::Double(age as f64 / 1000.0),
                ),
                (Reply::bulk("client-info"), Reply::bulk(&e.client_info)),
            ])
        })
        .collect();
    ctx.reply(Reply::Array(entries))
}

fn cat(ctx: &mut Ctx, which: Option<&Bytes>) {
    let Some(c) = which else {
        return ctx.reply(Reply::Array(CATEGORIES.iter().map(Reply::bulk).collect()));
    };
    let shown = super::cstr(c);
    let c = String::from_utf8_lossy(c).to_ascii_lowercase();
    if !CATEGORIES.contains(&c.as_str()) {
        return ctx.error(format!("ERR Unknown category '{shown}'"));
    }
    let tag = format!("@{c}");
    let names: Vec<Reply> = COMMANDS
        .iter()
        .flat_map(|p| std::iter::once(p).chain(p.subs.iter()))
        .filter(|s: &&CmdSpec| s.acl.contains(&tag.as_str()))
        .map(|s| Reply::bulk(s.name))
        .collect();
    ctx.reply(Reply::Array(names))
}

fn getuser(u: &User) -> Reply {
    let mut m = vec![
        (
            Reply::bulk("flags"),
            // A set, as redis replies (`~` in RESP3, an array in RESP2).
            Reply::Set(u.flags().into_iter().map(Reply::bulk).collect()),
        ),
        (
            Reply::bulk("passwords"),
            Reply::Array(u.passwords.iter().map(Reply::bulk).collect()),
        ),
    ];
    m.extend(selector_fields(&u.root));
    let sels = u
        .selectors
        .iter()
        .map(|s| Reply::Map(selector_fields(s)))
        .collect();
    m.push((Reply::bulk("selectors"), Reply::Array(sels)));
    Reply::Map(m)
}

/// `commands`, `keys` and `channels` of one selector, as ACL GETUSER shows them.
fn selector_fields(s: &Selector) -> Vec<(Reply, Reply)> {
    let chans = if s.allchannels {
        "&*".to_string()
    } else {
        s.channels
            .iter()
            .map(|c| format!("&{c}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    vec![
        (Reply::bulk("commands"), Reply::bulk(s.describe_rules())),
        (
            Reply::bulk("keys"),
            Reply::bulk(s.describe_keys().join(" ")),
        ),
        (Reply::bulk("channels"), Reply::bulk(chans)),
    ]
}

fn setuser(ctx: &mut Ctx, args: &[Bytes]) {
    if crate::acl::has_spaces(&args[2]) {
        return ctx.error("ERR Usernames can't contain spaces or null characters");
    }
    let name = String::from_utf8_lossy(&args[2]).into_owned();
    let original = ctx.state.users().users.get(&name).cloned();
    let mut u = original.clone().unwrap_or_else(|| User::new(&name));
    let given: Vec<String> = args[3..]
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    let rules = match crate::acl::merge_selector_args(&given) {
        Ok(rules) => rules,
        Err(i) => {
            return ctx.error(format!(
                "ERR Unmatched parenthesis in acl selector starting at '{}'.",
                super::cstr(given[i].as_bytes())
            ));
        }
    };
    for rule in rules {
        if let Err(e) = u.apply(&rule) {
            return ctx.error(format!(
                "ERR Error in ACL SETUSER modifier '{}': {}",
                super::cstr(rule.as_bytes()),
                e.message()
            ));
        }
    }
    // Redis 7.0 leaves connections of a user turned `off` (or whose password changed)
    // authenticated: only ACL DELUSER ends them, so operators can `ACL SETUSER default off`
    // from a default connection and then CLIENT KILL it themselves.
    if let Some(original) = &original {
        kill_revoked_subscribers(ctx, original, &u);
    }
    ctx.state.users_mut().users.insert(name, u);
    ctx.reply(Reply::ok())
}

/// Redis 7.0 (`ACLKillPubsubClientsIfNeeded`) disconnects the user's subscribers that
/// hold a channel or pattern the new rules no longer allow, so revoking a channel takes
/// effect on live subscriptions too. Its shortcuts decide first: nothing happens when
/// the new rules allow every channel, or list every pattern the old ones listed (and the
/// old ones did not allow every channel).
fn kill_revoked_subscribers(ctx: &mut Ctx, old: &User, new: &User) {
    let sels = |u: &User| {
        std::iter::once(u.root.clone())
            .chain(u.selectors.iter().cloned())
            .collect::<Vec<Selector>>()
    };
    let (old_sels, new_sels) = (sels(old), sels(new));
    if new_sels.iter().any(|s| s.allchannels) {
        return;
    }
    let upcoming: Vec<&String> = new_sels.iter().flat_map(|s| s.channels.iter()).collect();
    let superset = old_sels
        .iter()
        .all(|s| !s.allchannels && s.channels.iter().all(|c| upcoming.contains(&c)));
    if superset {
        return;
    }
    let allowed = |name: &[u8], is_pattern: bool| {
        upcoming.iter().any(|p| {
            if is_pattern {
                p.as_bytes() == name
            } else {
                crate::glob::glob_match(p.as_bytes(), name, false)
            }
        })
    };
    let hub = ctx.state.hub();
    for c in ctx.state.clients.all() {
        if c.state().user != old.name {
            continue;
        }
        let (channels, patterns) = hub.subscriptions_of(c.id);
        let revoked = patterns.iter().any(|p| !allowed(p, true))
            || channels.iter().any(|ch| !allowed(ch, false));
        if !revoked {
            continue;
        }
        // The real server frees the calling client in the middle of its own command
        // (and crashes, 7.0.15); here the caller gets its reply, then is closed.
        if c.id == ctx.sess.client.id {
            ctx.sess.close = true;
        } else {
            c.kill();
        }
    }
}

/// Connections authenticated as a removed user are closed (the caller after its reply).
fn kill_user_clients(ctx: &mut Ctx, name: &str) {
    for c in ctx.state.clients.all() {
        if c.state().user == name {
            if c.id == ctx.sess.client.id {
                ctx.sess.close = true;
            } else {
                c.kill();
            }
        }
    }
}

fn dryrun(ctx: &mut Ctx, args: &[Bytes]) {
    let name = String::from_utf8_lossy(&args[2]).into_owned();
    let Some(user) = ctx.state.users().users.get(&name).cloned() else {
        return ctx.error(format!("ERR User '{}' not found", super::cstr(&args[2])));
    };
    let cmdname = super::cstr(&args[3]);
    let Some(mut cmd) = ctx
        .state
        .resolve(&args[3])
        .and_then(crate::command_table::find)
    else {
        return ctx.error(format!("ERR Command '{cmdname}' not found"));
    };
    if let (false, Some(sub)) = (cmd.subs.is_empty(), args.get(4))
        && let Some(s) = crate::command_table::find_sub(cmd, sub)
    {
        cmd = s;
    }
    let argc = (args.len() - 3) as i32;
    if (cmd.arity > 0 && argc != cmd.arity) || (cmd.arity < 0 && argc < -cmd.arity) {
        return ctx.error(format!(
            "ERR wrong number of arguments for '{}' command",
            cmd.name
        ));
    }
    let run = &args[3..];
    match user.check(cmd, run) {
        Ok(()) => ctx.reply(Reply::ok()),
        Err(Denied::Command) => ctx.reply(Reply::bulk(format!(
            "This user has no permissions to run the '{}' command",
            cmd.name
        ))),
        Err(Denied::Channel(i)) => {
            let channels = command_channels(cmd.name, run);
            let bad = channels
                .get(i)
                .map(|(c, _)| super::cstr(c))
                .unwrap_or_default();
            ctx.reply(Reply::bulk(format!(
                "This user has no permissions to access the '{bad}' channel"
            )))
        }
    }
}
