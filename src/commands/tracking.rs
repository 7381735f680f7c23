//! `CLIENT TRACKING`, `CACHING`, `GETREDIR`, `TRACKINGINFO`: client-side caching as
//! redis-sentinel 7.0 keeps it. A sentinel has no keyspace, so nothing is ever
//! invalidated, but the settings are validated, kept and shown exactly as Redis does
//! (`CLIENT TRACKINGINFO`, the `t`/`B` flags and `redir` of `CLIENT LIST`, `INFO`'s
//! counts): a client library that turns tracking on and checks it sees what it would
//! see against redis-sentinel.

use super::session::{Session, Tracking};
use super::{Ctx, int_arg, is};
use crate::resp::Reply;
use crate::state::State;
use bytes::Bytes;

/// `CLIENT TRACKING on|off [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT]
/// [NOLOOP]`, with Redis' checks in Redis' order.
pub fn tracking(ctx: &mut Ctx, args: &[Bytes]) {
    let mut t = Tracking::default();
    let mut redirect: Option<u64> = None;
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = &args[j];
        if is(a, "redirect") && more {
            j += 1;
            if redirect.is_some_and(|r| r != 0) {
                return ctx.error("ERR A client can only redirect to a single other client");
            }
            let Some(id) = int_arg(&args[j]) else {
                return ctx.error("ERR value is not an integer or out of range");
            };
            let known = u64::try_from(id).is_ok_and(|id| ctx.state.clients.get(id).is_some());
            if !known {
                return ctx.error("ERR The client ID you want redirect to does not exist");
            }
            redirect = Some(id as u64);
        } else if is(a, "bcast") {
            t.bcast = true;
        } else if is(a, "optin") {
            t.optin = true;
        } else if is(a, "optout") {
            t.optout = true;
        } else if is(a, "noloop") {
            t.noloop = true;
        } else if is(a, "prefix") && more {
            j += 1;
            prefixes.push(args[j].clone());
        } else {
            return ctx.error("ERR syntax error");
        }
        j += 1;
    }
    if is(&args[2], "off") {
        stop(ctx.state, ctx.sess);
        return ctx.reply(Reply::ok());
    }
    if !is(&args[2], "on") {
        return ctx.error("ERR syntax error");
    }
    let cur = ctx.sess.tracking.as_ref();
    if !t.bcast && !prefixes.is_empty() {
        return ctx.error("ERR PREFIX option requires BCAST mode to be enabled");
    }
    if cur.is_some_and(|c| c.bcast != t.bcast) {
        return ctx.error(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
        );
    }
    if t.bcast && (t.optin || t.optout) {
        return ctx.error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if t.optin && t.optout {
        return ctx.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    if cur.is_some_and(|c| (t.optin && c.optout) || (t.optout && c.optin)) {
        return ctx.error(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
        );
    }
    if t.bcast && !prefixes_fit(ctx, &prefixes) {
        return;
    }
    // Re-enabling keeps the prefixes registered before and the CACHING mark.
    let state = ctx.state;
    let new = ctx.sess.tracking.is_none();
    let cur = ctx.sess.tracking.get_or_insert_with(Tracking::default);
    if new {
        state.tracking.client_on();
    }
    t.caching = cur.caching;
    t.redirect = redirect.unwrap_or(0);
    t.prefixes = std::mem::take(&mut cur.prefixes);
    if t.bcast {
        let wanted = if prefixes.is_empty() {
            vec![Bytes::new()]
        } else {
            prefixes
        };
        for p in wanted {
            if t.prefixes.insert(p.clone()) {
                state.tracking.prefix_on(&p);
            }
        }
    }
    *cur = t;
    ctx.sess.client.state().tracking = Some((cur.redirect, cur.bcast));
    ctx.reply(Reply::ok())
}

/// Redis' `checkPrefixCollisionsOrReply`: no new prefix may be a prefix of, or start
/// with, one the client has; nor of a later one in the same call. Reproduced with its
/// quirk: an overlap inside the list found past the first prefix is reported and the
/// command still goes on (redis-sentinel 7.0 then also replies `+OK`).
fn prefixes_fit(ctx: &mut Ctx, prefixes: &[Bytes]) -> bool {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let text = super::cstr;
    let have = ctx.sess.tracking.as_ref().map(|t| t.prefixes.clone());
    for (i, p) in prefixes.iter().enumerate() {
        if let Some(old) = have.iter().flatten().find(|old| overlap(old, p)) {
            ctx.error(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(old)
            ));
            return false;
        }
        if let Some(later) = prefixes[i + 1..].iter().find(|q| overlap(p, q)) {
            ctx.error(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(later)
            ));
            return i != 0;
        }
    }
    true
}

/// Tracking off (`CLIENT TRACKING off`, or the connection went away).
pub fn stop(state: &State, sess: &mut Session) {
    if let Some(t) = sess.tracking.take() {
        state.tracking.client_off(&t.prefixes);
        sess.client.state().tracking = None;
    }
}

/// `CLIENT CACHING yes|no`.
pub fn caching(ctx: &mut Ctx, arg: &[u8]) {
    let Some(t) = ctx.sess.tracking.as_mut() else {
        return ctx.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    };
    if is(arg, "yes") {
        if !t.optin {
            return ctx.error(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
        }
    } else if is(arg, "no") {
        if !t.optout {
            return ctx.error(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
        }
    } else {
        return ctx.error("ERR syntax error");
    }
    t.caching = true;
    ctx.reply(Reply::ok())
}

/// The CACHING mark holds for the next command only; CLIENT commands keep it (Redis
/// clears it in `resetClient` after any other command, unknown ones included).
pub fn after_command(sess: &mut Session, name: &[u8]) {
    if let Some(t) = sess.tracking.as_mut()
        && !is(name, "client")
    {
        t.caching = false;
    }
}

/// `CLIENT GETREDIR`.
pub fn getredir(ctx: &mut Ctx) {
    let r = ctx.sess.tracking.as_ref().map_or(-1, |t| t.redirect as i64);
    ctx.reply(Reply::Int(r))
}

/// `CLIENT TRACKINGINFO`.
pub fn trackinginfo(ctx: &mut Ctx) {
    let t = ctx.sess.tracking.as_ref();
    let mut flags = vec![if t.is_some() { "on" } else { "off" }];
    if let Some(t) = t {
        let marks = [
            (t.bcast, "bcast"),
            (t.optin, "optin"),
            (t.optin && t.caching, "caching-yes"),
            (t.optout, "optout"),
            (t.optout && t.caching, "caching-no"),
            (t.noloop, "noloop"),
        ];
        flags.extend(marks.iter().filter(|(on, _)| *on).map(|(_, f)| *f));
    }
    let redirect = t.map_or(-1, |t| t.redirect as i64);
    let prefixes = t.map_or(Vec::new(), |t| {
        t.prefixes.iter().map(|p| Reply::Bulk(p.clone())).collect()
    });
    ctx.reply(Reply::Map(vec![
        (
            Reply::bulk("flags"),
            Reply::Set(flags.into_iter().map(Reply::bulk).collect()),
        ),
        (Reply::bulk("redirect"), Reply::Int(redirect)),
        (Reply::bulk("prefixes"), Reply::Array(prefixes)),
    ]))
}
