//! Connection-level commands: PING, AUTH, HELLO, ROLE, SHUTDOWN, and the hand-off of
//! SENTINEL to the core.

use super::{Ctx, int_arg, is};
use crate::resp::Reply;
use crate::state::acl_log::Reason;
use bytes::Bytes;

pub fn ping(ctx: &mut Ctx, args: &[Bytes]) {
    if args.len() > 2 {
        return ctx.error("ERR wrong number of arguments for 'ping' command");
    }
    if ctx.sess.resp() == 2 && ctx.sess.subscribed() {
        let msg = args.get(1).cloned().unwrap_or_default();
        return ctx.reply(Reply::Array(vec![Reply::bulk("pong"), Reply::Bulk(msg)]));
    }
    match args.get(1) {
        Some(m) => ctx.reply(Reply::Bulk(m.clone())),
        // `+PONG` in both protocols, written without building a reply.
        None => ctx.encode_with(|_, out| out.extend_from_slice(b"+PONG\r\n")),
    }
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// Try to log in; on success the connection becomes `user`. A failure is an `auth`
/// entry of `ACL LOG` whose object is `command` as the client typed it.
fn login(ctx: &mut Ctx, command: &[u8], user_arg: &[u8], pass: &[u8]) -> bool {
    let user = String::from_utf8_lossy(user_arg).into_owned();
    if !ctx.state.users().check(&user, pass) {
        let client = &ctx.sess.client;
        ctx.state
            .log_refusal(Reason::Auth, command, user_arg, client);
        return false;
    }
    ctx.sess.authed = true;
    ctx.sess.set_user(user);
    true
}

pub fn auth(ctx: &mut Ctx, args: &[Bytes]) {
    let (user, pass): (&[u8], &[u8]) = match args.len() {
        2 => (b"default", &args[1]),
        3 => (&args[1], &args[2]),
        _ => return ctx.error("ERR syntax error"),
    };
    if args.len() == 2 {
        let nopass = ctx
            .state
            .users()
            .users
            .get("default")
            .is_some_and(|u| u.nopass);
        if nopass {
            return ctx.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        }
    }
    if login(ctx, &args[0], user, pass) {
        ctx.reply(Reply::ok())
    } else {
        ctx.error(WRONGPASS)
    }
}

/// Redis accepts client names made of printable non-space ASCII only.
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

pub fn hello(ctx: &mut Ctx, args: &[Bytes]) {
    let mut ver = None;
    if args.len() >= 2 {
        match int_arg(&args[1]) {
            None => return ctx.error("ERR Protocol version is not an integer or out of range"),
            Some(v) if !(2..=3).contains(&v) => {
                return ctx.error("NOPROTO unsupported protocol version");
            }
            Some(v) => ver = Some(v as u8),
        }
    }
    let mut creds = None;
    let mut name = None;
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "auth") && more >= 2 {
            creds = Some((args[j + 1].clone(), args[j + 2].clone()));
            j += 2;
        } else if is(&args[j], "setname") && more >= 1 {
            name = Some(args[j + 1].clone());
            j += 1;
        } else {
            return ctx.error(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[j])
            ));
        }
        j += 1;
    }
    if let Some((u, p)) = creds
        && !login(ctx, &args[0], &u, &p)
    {
        return ctx.error(WRONGPASS);
    }
    if !ctx.sess.authed {
        return ctx.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(n) = name {
        if !valid_client_name(&n) {
            return ctx
                .error("ERR Client names cannot contain spaces, newlines or special characters.");
        }
        ctx.sess.client.state().name =
            (!n.is_empty()).then(|| String::from_utf8_lossy(&n).into_owned());
    }
    if let Some(v) = ver {
        ctx.sess.client.set_resp(v);
    }
    let r = Reply::Map(vec![
        (Reply::bulk("server"), Reply::bulk("redis")),
        (Reply::bulk("version"), Reply::bulk("7.0.15")),
        (Reply::bulk("proto"), Reply::Int(ctx.sess.resp() as i64)),
        (Reply::bulk("id"), Reply::Int(ctx.sess.client.id as i64)),
        (Reply::bulk("mode"), Reply::bulk("sentinel")),
        (Reply::bulk("modules"), Reply::Array(Vec::new())),
    ]);
    ctx.reply(r)
}

pub fn role(ctx: &mut Ctx) {
    let (masters, _) = ctx.shell.with_core(|c, _| super::sentinel::role_masters(c));
    ctx.reply(Reply::Array(vec![
        Reply::bulk("sentinel"),
        Reply::Array(masters.iter().map(Reply::bulk).collect()),
    ]))
}

/// SHUTDOWN: a sentinel never saves; the connection is closed without a reply and the
/// process is asked to stop.
pub fn shutdown(ctx: &mut Ctx, args: &[Bytes]) {
    let mut abort = false;
    for a in &args[1..] {
        if is(a, "abort") {
            abort = true;
        } else if !(is(a, "nosave") || is(a, "save") || is(a, "now") || is(a, "force")) {
            return ctx.error("ERR syntax error");
        }
    }
    if abort {
        if args.len() > 2 {
            return ctx.error("ERR syntax error");
        }
        return ctx.error("ERR No shutdown in progress.");
    }
    ctx.sess.close = true;
    ctx.state.request_shutdown();
}

pub fn sentinel(ctx: &mut Ctx, args: &[Bytes]) {
    // The query on every client's connect path: a read of the core, no actions.
    if args.len() == 3
        && (super::is(&args[1], "get-master-addr-by-name")
            || super::is(&args[1], "get-primary-addr-by-name"))
    {
        let shell = ctx.shell;
        // The lossy conversion the SENTINEL command makes, without its slower scan
        // when the name is valid UTF-8 (it always is in practice).
        let name = match std::str::from_utf8(&args[2]) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(&args[2]),
        };
        return ctx.encode_with(|proto, out| {
            shell.read_core(|c| super::sentinel::encode_master_addr(c, &name, proto, out))
        });
    }
    // The other frequent read (dashboards, clients listing masters): no actions either,
    // so no action round and no observer run after it.
    if args.len() == 2 && (super::is(&args[1], "masters") || super::is(&args[1], "primaries")) {
        let now = crate::shell::now_ms();
        let reply = ctx.shell.read_core(|c| super::sentinel::masters(c, now));
        return ctx.reply(reply);
    }
    // Vote requests: their actions (the vote's config write, `+vote-for-leader`) wait
    // for the end of the connection's batch, so a peer's pipelined requests for many
    // masters cost one config write (the connection performs them before any reply).
    if super::defers_actions(args) {
        let reply = ctx
            .shell
            .with_core_deferred(&mut ctx.sess.deferred, |c, now| {
                super::sentinel::sentinel_command(c, now, args)
            });
        return ctx.reply(reply);
    }
    let (reply, outcome) = ctx
        .shell
        .with_core(|c, now| super::sentinel::sentinel_command(c, now, args));
    if !outcome.persisted_ok && reply == Reply::ok() {
        return ctx.error("ERR Failed to save config file. Check server logs.");
    }
    ctx.reply(reply)
}
