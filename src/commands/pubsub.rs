//! SUBSCRIBE / UNSUBSCRIBE / PSUBSCRIBE / PUNSUBSCRIBE on the sentinel's own pub/sub, and
//! the sentinel flavour of PUBLISH (hello messages only, handed to the core).

use super::Ctx;
use crate::resp::Reply;
use bytes::Bytes;

/// The confirmation frame: a push in RESP3, an array in RESP2.
fn confirm(kind: &str, name: Option<Bytes>, count: usize) -> Reply {
    Reply::Push(vec![
        Reply::bulk(kind),
        name.map_or(Reply::Null, Reply::Bulk),
        Reply::Int(count as i64),
    ])
}

pub fn subscription(ctx: &mut Ctx, kind: &str, args: &[Bytes]) {
    let hub = ctx.state.hub();
    let client = ctx.sess.client.clone();
    let names: Vec<Bytes> = args[1..].to_vec();
    let pattern = kind.starts_with('p');
    let subscribing = !kind.contains("unsub");
    // Redis sends subscription confirmations as pushes: CLIENT REPLY OFF/SKIP do not
    // silence them.
    ctx.sess.pushing = true;
    if subscribing {
        for n in names {
            let list = if pattern {
                &mut ctx.sess.patterns
            } else {
                &mut ctx.sess.channels
            };
            if !list.contains(&n) {
                list.push(n.clone());
                if pattern {
                    hub.psubscribe(&client, &n);
                } else {
                    hub.subscribe(&client, &n);
                }
            }
            ctx.sess.sync_counts();
            let count = ctx.sess.channels.len() + ctx.sess.patterns.len();
            ctx.reply(confirm(kind, Some(n), count));
        }
        return;
    }
    let targets = if names.is_empty() {
        if pattern {
            ctx.sess.patterns.clone()
        } else {
            ctx.sess.channels.clone()
        }
    } else {
        names
    };
    if targets.is_empty() {
        let count = ctx.sess.channels.len() + ctx.sess.patterns.len();
        return ctx.reply(confirm(kind, None, count));
    }
    for n in targets {
        let list = if pattern {
            &mut ctx.sess.patterns
        } else {
            &mut ctx.sess.channels
        };
        if let Some(pos) = list.iter().position(|x| *x == n) {
            list.remove(pos);
            if pattern {
                hub.punsubscribe(client.id, &n);
            } else {
                hub.unsubscribe(client.id, &n);
            }
        }
        ctx.sess.sync_counts();
        let count = ctx.sess.channels.len() + ctx.sess.patterns.len();
        ctx.reply(confirm(kind, Some(n), count));
    }
}

pub const HELLO_CHANNEL: &[u8] = b"__sentinel__:hello";

/// Sentinels only accept hellos here; the payload goes straight to the core and is not
/// delivered to local subscribers. The reply is always `:1`.
pub fn publish(ctx: &mut Ctx, args: &[Bytes]) {
    if args[1].as_ref() != HELLO_CHANNEL {
        return ctx.error("ERR Only HELLO messages are accepted by Sentinel instances.");
    }
    let payload = args[2].clone();
    // Deferred to the end of the connection's batch: a leader that just switched many
    // masters sends one hello for each, and one config write saves them all.
    ctx.shell
        .with_core_deferred(&mut ctx.sess.deferred, |c, now| {
            c.handle(now, crate::core::Event::Hello { payload })
        });
    ctx.reply(Reply::Int(1))
}
