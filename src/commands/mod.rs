//! The client-facing command table of sentinel mode.
//!
//! [`execute`] does what Redis' `processCommand` does before calling a command, in the
//! same order (so the same error wins when several apply): lookup (with
//! `rename-command`), unknown (sub)command, arity, authentication, ACL, then the RESP2
//! subscribed-context restriction. One file per command family does the rest.

pub mod acl;
pub mod client;
pub mod command;
pub mod connection;
pub mod info;
pub mod info_proxy;
pub mod pubsub;
pub mod sentinel;
pub mod session;
pub mod tracking;

use crate::acl::Denied;
use crate::command_table::{self, CmdSpec};
use crate::resp::{Reply, one_line};
use crate::shell::Shell;
use crate::state::State;
use crate::state::acl_log::Reason;
use bytes::{Bytes, BytesMut};
use session::Session;

/// What a command implementation gets: the shared state, the core (through the shell),
/// the connection, and where replies go.
pub struct Ctx<'a> {
    pub state: &'a State,
    pub shell: &'a Shell,
    pub sess: &'a mut Session,
    out: &'a mut BytesMut,
}

impl Ctx<'_> {
    /// Encode a reply with the connection's current protocol.
    pub fn reply(&mut self, r: Reply) {
        if matches!(r, Reply::Error(_)) {
            let errors = &self.state.stats.error_replies;
            errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let r = sanitize(r);
        r.encode(self.sess.resp(), self.out);
    }
    /// Encode a reply in place: `f` gets the connection's protocol and the output.
    pub fn encode_with(&mut self, f: impl FnOnce(u8, &mut BytesMut)) {
        f(self.sess.resp(), self.out)
    }
    pub fn error(&mut self, text: impl Into<String>) {
        self.reply(Reply::Error(text.into()));
    }
}

/// Error strings never carry CR/LF (a user-provided fragment could break the framing).
fn sanitize(r: Reply) -> Reply {
    match r {
        Reply::Error(s) => Reply::Error(one_line(&s).into_owned()),
        other => other,
    }
}

/// The commands whose actions a connection defers to the end of its batch: what peers
/// send for many masters at once (`SENTINEL IS-MASTER-DOWN-BY-ADDR` vote requests, or its
/// Valkey spelling, and hellos `PUBLISH`ed to us directly after a failover).
pub fn defers_actions(args: &[Bytes]) -> bool {
    match args.len() {
        6 => {
            args[0].eq_ignore_ascii_case(b"sentinel")
                && (args[1].eq_ignore_ascii_case(b"is-master-down-by-addr")
                    || args[1].eq_ignore_ascii_case(b"is-primary-down-by-addr"))
        }
        3 => args[0].eq_ignore_ascii_case(b"publish") && args[1].as_ref() == pubsub::HELLO_CHANNEL,
        _ => false,
    }
}

/// Execute one request, appending the encoded replies to `out`. The connection has
/// already recorded the request's arrival (`CLIENT LIST`'s `idle`, `qbuf`, `argv-mem`).
/// False when the request was refused before it ran (unknown command or subcommand,
/// arity, authentication, permissions, the RESP2 pub/sub context): Redis' processCommand
/// turns those away before `call()`, so they are not in `total_commands_processed`.
pub fn execute(
    state: &State,
    shell: &Shell,
    sess: &mut Session,
    args: &[Bytes],
    out: &mut BytesMut,
) -> bool {
    let mut ctx = Ctx {
        state,
        shell,
        sess,
        out,
    };
    let Some(name) = args.first() else {
        return false;
    };
    tracking::after_command(ctx.sess, name);
    let Some(spec) = state.resolve_spec(name) else {
        // Redis' `lastcmd` is the lookup's result: no command, `cmd=NULL`.
        ctx.sess.client.clear_last_cmd();
        ctx.error(unknown_command(args));
        return false;
    };
    let mut cmd: &CmdSpec = spec;
    // The name errors show: the subcommand as called, aliases included.
    let mut shown = spec.name;
    if !spec.subs.is_empty() && args.len() >= 2 {
        match command_table::find_sub_as(spec, &args[1]) {
            Some((sub, alias)) => {
                cmd = sub;
                shown = alias.unwrap_or(sub.name);
            }
            None => {
                ctx.sess.client.clear_last_cmd();
                ctx.error(format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    trunc(&args[1], 128),
                    spec.name.to_ascii_uppercase()
                ));
                return false;
            }
        }
    }
    // Set at lookup, as Redis' processCommand does: a command refused for its arity,
    // authentication or permissions still shows as the client's `cmd=`.
    ctx.sess.client.set_last_cmd(cmd);
    // `SENTINEL FAILOVER <name> COORDINATED` (issue #10) is one argument more than the
    // table (redis-sentinel's, as COMMAND shows it) allows; the subcommand checks it.
    let extension = args.len() == 4 && cmd.name == "sentinel|failover";
    if !extension
        && ((cmd.arity > 0 && args.len() as i32 != cmd.arity)
            || (cmd.arity < 0 && (args.len() as i32) < -cmd.arity))
    {
        ctx.error(format!(
            "ERR wrong number of arguments for '{shown}' command"
        ));
        return false;
    }
    if !ctx.sess.authed && !cmd.flags.contains(&"no_auth") {
        ctx.error("NOAUTH Authentication required.");
        return false;
    }
    if let Err(denied) = permitted(&mut ctx, cmd, args) {
        // Logged first: the entry's client line is the client's before the error.
        let user = ctx.sess.client.state().user.clone();
        let client = &ctx.sess.client;
        match denied {
            Denied::Command => {
                ctx.state.log_refusal(
                    Reason::Command,
                    cmd.name.as_bytes(),
                    user.as_bytes(),
                    client,
                );
                ctx.error(format!(
                    "NOPERM this user has no permissions to run the '{shown}' command"
                ));
            }
            Denied::Channel(i) => {
                let channel = args.get(i + 1).map_or(&b""[..], |a| a.as_ref());
                ctx.state
                    .log_refusal(Reason::Channel, channel, user.as_bytes(), client);
                ctx.error("NOPERM this user has no permissions to access one of the channels used as arguments");
            }
        }
        return false;
    }
    if ctx.sess.subscribed() && ctx.sess.resp() == 2 && !allowed_in_pubsub(spec.name) {
        ctx.error(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            cmd.name
        ));
        return false;
    }
    // The query path's commands first: a string match tests the arms in order.
    match spec.name {
        "sentinel" => connection::sentinel(&mut ctx, args),
        "ping" => connection::ping(&mut ctx, args),
        "auth" => connection::auth(&mut ctx, args),
        "hello" => connection::hello(&mut ctx, args),
        "role" => connection::role(&mut ctx),
        "shutdown" => connection::shutdown(&mut ctx, args),
        "info" => info::info(&mut ctx, args),
        "client" => client::client(&mut ctx, args),
        "acl" => acl::acl(&mut ctx, args),
        "command" => command::command(&mut ctx, args),
        "subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe" => {
            pubsub::subscription(&mut ctx, spec.name, args)
        }
        "publish" => pubsub::publish(&mut ctx, args),
        _ => {
            ctx.error(unknown_command(args));
            return false;
        }
    }
    true
}

fn permitted(ctx: &mut Ctx, cmd: &CmdSpec, args: &[Bytes]) -> Result<(), Denied> {
    match ctx.sess.acl_user(ctx.state) {
        Some(u) => u.check(cmd, args),
        None => Err(Denied::Command),
    }
}

fn allowed_in_pubsub(name: &str) -> bool {
    matches!(
        name,
        "ping" | "subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe"
    )
}

/// An argument as Redis' `%s` prints it: up to its first NUL byte.
pub fn cstr(arg: &[u8]) -> String {
    String::from_utf8_lossy(crate::resp::until_nul(arg)).into_owned()
}

/// Redis' `addReplySubcommandSyntaxError`: the subcommand as typed (`%.128s`, so it
/// stops at a NUL byte too), for a subcommand called with arguments its code refuses.
pub fn subcommand_syntax_error(sub: &[u8], command: &str) -> String {
    let shown = cstr(sub);
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {command} HELP.",
        trunc(shown.as_bytes(), 128)
    )
}

/// `%.Ns` of a possibly binary argument.
pub fn trunc(b: &[u8], n: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(n)]).into_owned()
}

/// `unknown command '<name>', with args beginning with: '<a1>' '<a2>' ` where the
/// argument list (quotes and spaces included) stops growing at 128 characters.
/// Redis formats them with `%s`, so each stops at its first NUL byte.
pub fn unknown_command(args: &[Bytes]) -> String {
    let cstr = |b: &[u8]| crate::resp::until_nul(b).to_vec();
    let mut list: Vec<u8> = Vec::new();
    for a in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let a = cstr(a);
        let room = 128 - list.len();
        list.push(b'\'');
        list.extend_from_slice(&a[..a.len().min(room)]);
        list.extend_from_slice(b"' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        trunc(&cstr(&args[0]), 128),
        String::from_utf8_lossy(&list)
    )
}

/// Case-insensitive ASCII comparison of an argument with a keyword.
pub fn is(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// Parse an integer argument the way Redis' `getLongLongFromObject` does.
pub fn int_arg(arg: &[u8]) -> Option<i64> {
    crate::resp::request::parse_i64_strict(arg)
}
