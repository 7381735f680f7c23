//! CLIENT: the 7.0 subcommands over the client registry (tracking in
//! [`super::tracking`]).

use super::command::help_reply;
use super::connection::valid_client_name;
use super::{Ctx, int_arg, is};
use crate::resp::Reply;
use crate::state::Pause;
use crate::state::clients::ClientShared;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

pub fn client(ctx: &mut Ctx, args: &[Bytes]) {
    let sub = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let me = ctx.sess.client.clone();
    match sub.as_str() {
        "id" => ctx.reply(Reply::Int(me.id as i64)),
        "getname" => {
            let name = me.state().name.clone();
            ctx.reply(name.map_or(Reply::Null, Reply::bulk))
        }
        "setname" => {
            if !valid_client_name(&args[2]) {
                return ctx.error(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                );
            }
            me.state().name =
                (!args[2].is_empty()).then(|| String::from_utf8_lossy(&args[2]).into_owned());
            ctx.reply(Reply::ok())
        }
        "info" => ctx.reply(Reply::Verbatim(format!("{}\n", me.describe()))),
        "list" => list(ctx, &args[2..]),
        "kill" => kill(ctx, &args[2..]),
        "pause" => pause(ctx, &args[2..]),
        "unpause" => {
            ctx.state.set_pause(None);
            ctx.reply(Reply::ok())
        }
        "reply" => {
            use super::session::ReplyMode;
            let a = &args[2];
            if is(a, "on") {
                ctx.sess.reply_mode = ReplyMode::On;
                ctx.reply(Reply::ok())
            } else if is(a, "off") {
                ctx.sess.reply_mode = ReplyMode::Off;
            } else if is(a, "skip") {
                if ctx.sess.reply_mode != ReplyMode::Off {
                    ctx.sess.reply_mode = ReplyMode::SkipNext;
                }
            } else {
                ctx.error("ERR syntax error")
            }
        }
        "no-evict" => on_off(ctx, &args[2], |c, v| c.state().no_evict = v),
        "tracking" => super::tracking::tracking(ctx, args),
        "caching" => super::tracking::caching(ctx, &args[2]),
        "getredir" => super::tracking::getredir(ctx),
        "trackinginfo" => super::tracking::trackinginfo(ctx),
        "unblock" => {
            // Redis: at most a reason after the id, and the reason is looked at first.
            if args.len() > 4 {
                return ctx.error(super::subcommand_syntax_error(&args[1], "CLIENT"));
            }
            if let Some(r) = args.get(3)
                && !is(r, "timeout")
                && !is(r, "error")
            {
                return ctx.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            }
            if int_arg(&args[2]).is_none() {
                return ctx.error("ERR value is not an integer or out of range");
            }
            ctx.reply(Reply::Int(0))
        }
        _ => ctx.reply(help_reply(CLIENT_HELP)),
    }
}

fn on_off(ctx: &mut Ctx, a: &[u8], set: impl Fn(&ClientShared, bool)) {
    if is(a, "on") {
        set(&ctx.sess.client, true);
    } else if is(a, "off") {
        set(&ctx.sess.client, false);
    } else {
        return ctx.error("ERR syntax error");
    }
    ctx.reply(Reply::ok())
}

/// Client classes a sentinel has: everything is `normal` or `pubsub`.
fn type_matches(c: &ClientShared, t: &str) -> bool {
    let pubsub = {
        let s = c.state();
        s.sub + s.psub > 0
    };
    match t {
        "pubsub" => pubsub,
        "normal" => !pubsub,
        _ => false,
    }
}

fn valid_type(t: &str) -> bool {
    matches!(t, "normal" | "master" | "replica" | "slave" | "pubsub")
}

fn list(ctx: &mut Ctx, opts: &[Bytes]) {
    let mut clients = ctx.state.clients.all();
    match opts {
        [] => {}
        [k, t] if is(k, "type") => {
            let t = String::from_utf8_lossy(t).to_ascii_lowercase();
            if !valid_type(&t) {
                return ctx.error(format!("ERR Unknown client type '{t}'"));
            }
            clients.retain(|c| type_matches(c, &t));
        }
        [k, ids @ ..] if is(k, "id") && !ids.is_empty() => {
            let mut wanted = Vec::new();
            for id in ids {
                match int_arg(id) {
                    Some(i) if i > 0 => wanted.push(i as u64),
                    _ => return ctx.error("ERR Invalid client ID"),
                }
            }
            clients.retain(|c| wanted.contains(&c.id));
        }
        _ => return ctx.error("ERR syntax error"),
    }
    let text: String = clients
        .iter()
        .map(|c| format!("{}\n", c.describe()))
        .collect();
    ctx.reply(Reply::Verbatim(text))
}

/// One CLIENT KILL filter; a client is killed when all of them match.
type Filter = Box<dyn Fn(&Arc<ClientShared>) -> bool>;

fn kill(ctx: &mut Ctx, opts: &[Bytes]) {
    let me = ctx.sess.client.clone();
    let all = ctx.state.clients.all();
    if opts.len() == 1 {
        // Old form: CLIENT KILL ip:port, +OK or an error.
        let addr = String::from_utf8_lossy(&opts[0]).into_owned();
        return match all.iter().find(|c| c.addr == addr) {
            Some(c) => {
                kill_one(ctx, c, &me);
                ctx.reply(Reply::ok())
            }
            None => ctx.error("ERR No such client"),
        };
    }
    if !opts.len().is_multiple_of(2) {
        return ctx.error("ERR syntax error");
    }
    let mut filters: Vec<Filter> = Vec::new();
    let mut skipme = true;
    for pair in opts.chunks(2) {
        let (k, v) = (&pair[0], pair[1].clone());
        let vs = String::from_utf8_lossy(&v).into_owned();
        if is(k, "id") {
            match int_arg(&v) {
                Some(i) if i > 0 => filters.push(Box::new(move |c| c.id == i as u64)),
                _ => return ctx.error("ERR client-id should be greater than 0"),
            }
        } else if is(k, "type") {
            let t = vs.to_ascii_lowercase();
            if !valid_type(&t) {
                return ctx.error(format!("ERR Unknown client type '{vs}'"));
            }
            filters.push(Box::new(move |c| type_matches(c, &t)));
        } else if is(k, "addr") {
            filters.push(Box::new(move |c| c.addr == vs));
        } else if is(k, "laddr") {
            filters.push(Box::new(move |c| c.laddr == vs));
        } else if is(k, "user") {
            if !ctx.state.users().users.contains_key(&vs) {
                return ctx.error(format!("ERR No such user '{vs}'"));
            }
            filters.push(Box::new(move |c| c.state().user == vs));
        } else if is(k, "skipme") {
            if is(&v, "yes") {
                skipme = true;
            } else if is(&v, "no") {
                skipme = false;
            } else {
                return ctx.error("ERR syntax error");
            }
        } else {
            return ctx.error("ERR syntax error");
        }
    }
    let mut n = 0;
    for c in &all {
        if (skipme && c.id == me.id) || !filters.iter().all(|f| f(c)) {
            continue;
        }
        kill_one(ctx, c, &me);
        n += 1;
    }
    ctx.reply(Reply::Int(n))
}

/// Killing ourselves closes after this reply, like Redis' CLOSE_AFTER_REPLY.
fn kill_one(ctx: &mut Ctx, target: &Arc<ClientShared>, me: &Arc<ClientShared>) {
    if target.id == me.id {
        ctx.sess.close = true;
    } else {
        target.kill();
    }
}

fn pause(ctx: &mut Ctx, opts: &[Bytes]) {
    let ms = match int_arg(&opts[0]) {
        None => return ctx.error("ERR timeout is not an integer or out of range"),
        Some(v) if v < 0 => return ctx.error("ERR timeout is negative"),
        Some(v) => v as u64,
    };
    let all = match opts.get(1) {
        None => true,
        Some(m) if is(m, "all") => true,
        Some(m) if is(m, "write") => false,
        Some(_) => return ctx.error("ERR CLIENT PAUSE mode must be WRITE or ALL"),
    };
    if opts.len() > 2 {
        return ctx.error("ERR syntax error");
    }
    ctx.state.set_pause(Some(Pause {
        until: Instant::now() + Duration::from_millis(ms),
        all,
    }));
    ctx.reply(Reply::ok())
}
