//! Valkey 8 / Redis 7.2+ spellings, differentially: rsentinel answers the new names
//! the way real redis-sentinel 7.0.15 answers the old ones on the same topology, and
//! still answers the old ones exactly like it.

use crate::harness::*;
use std::time::Duration;

/// Field names of an instance description, in order.
fn keys(reply: &[u8]) -> Vec<String> {
    parse_pairs(reply).into_iter().map(|(k, _)| k).collect()
}

#[test]
fn primary_spellings_answer_like_real_sentinels_master_ones() {
    require!("redis-server");
    require!("redis-sentinel");
    let master = redis_server(&[]);
    let mp = master.port.to_string();
    let _replica = redis_server(&["--replicaof", "127.0.0.1", &mp]);
    let conf = format!(
        "sentinel monitor mymaster 127.0.0.1 {} 2\nsentinel down-after-milliseconds mymaster 5000\n",
        master.port
    );
    let real = sentinel(std::path::Path::new("redis-sentinel"), &conf);
    let ours = sentinel(&rsentinel_bin(), &conf);
    let (mut r, mut o) = (Raw::connect(real.port), Raw::connect(ours.port));
    for c in [&mut r, &mut o] {
        wait_until(
            "replica and peer discovered",
            Duration::from_secs(30),
            || {
                let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "mymaster"]));
                field(&m, "num-slaves") == "1" && field(&m, "num-other-sentinels") == "1"
            },
        );
    }
    // Same shape as the real MASTER / MASTERS, same values where they are stable.
    let real_master = r.cmd(&["SENTINEL", "MASTER", "mymaster"]);
    let primary = o.cmd(&["SENTINEL", "PRIMARY", "mymaster"]);
    assert_eq!(keys(&primary), keys(&real_master));
    for k in [
        "name",
        "ip",
        "port",
        "runid",
        "flags",
        "quorum",
        "num-slaves",
        "config-epoch",
    ] {
        assert_eq!(
            field(&parse_pairs(&primary), k),
            field(&parse_pairs(&real_master), k),
            "{k}"
        );
    }
    let primaries = parse_instances(&o.cmd(&["SENTINEL", "PRIMARIES"]));
    let masters = parse_instances(&r.cmd(&["SENTINEL", "MASTERS"]));
    assert_eq!(primaries.len(), masters.len());
    // Byte-identical replies.
    for (new, old) in [
        (
            vec!["SENTINEL", "GET-PRIMARY-ADDR-BY-NAME", "mymaster"],
            vec!["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
        ),
        (
            vec!["SENTINEL", "GET-PRIMARY-ADDR-BY-NAME", "nosuch"],
            vec!["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch"],
        ),
        (
            vec![
                "SENTINEL",
                "IS-PRIMARY-DOWN-BY-ADDR",
                "127.0.0.1",
                &mp,
                "0",
                "*",
            ],
            vec![
                "SENTINEL",
                "IS-MASTER-DOWN-BY-ADDR",
                "127.0.0.1",
                &mp,
                "0",
                "*",
            ],
        ),
        (
            vec!["SENTINEL", "PRIMARY", "nosuch"],
            vec!["SENTINEL", "MASTER", "nosuch"],
        ),
    ] {
        assert_eq!(
            String::from_utf8_lossy(&o.cmd(&new)),
            String::from_utf8_lossy(&r.cmd(&old)),
            "{new:?}"
        );
    }
    // The 7.0 names and their replies are unchanged: same bytes as the real one.
    for cmd in [
        vec!["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
        vec!["SENTINEL", "CONFIG", "GET", "announce-*"],
        vec!["SENTINEL", "CONFIG", "SET", "announce-port"],
        vec!["SENTINEL", "HELP"],
    ] {
        assert_eq!(
            String::from_utf8_lossy(&o.cmd(&cmd)),
            String::from_utf8_lossy(&r.cmd(&cmd)),
            "{cmd:?}"
        );
    }
    // INFO sentinel keeps 7.0.15's lines (no sentinel_total_tilt unless opted in).
    assert_eq!(
        info_fields(&o.cmd(&["INFO", "sentinel"])),
        info_fields(&r.cmd(&["INFO", "sentinel"]))
    );
    // Redis 7.2's several-parameter CONFIG (7.0.15 refuses it with its usage error).
    let got = o.cmd(&["SENTINEL", "CONFIG", "GET", "announce-ip", "announce-port"]);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "*4\r\n$11\r\nannounce-ip\r\n$0\r\n\r\n$13\r\nannounce-port\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        o.cmd(&[
            "SENTINEL",
            "CONFIG",
            "SET",
            "announce-port",
            "0",
            "resolve-hostnames",
            "no"
        ]),
        b"+OK\r\n"
    );
    // Errors name the subcommand as called.
    assert_eq!(
        String::from_utf8_lossy(&o.cmd(&["SENTINEL", "PRIMARY"])),
        "-ERR wrong number of arguments for 'sentinel|primary' command\r\n"
    );
    // ACL rules: an alias is the subcommand it renames.
    assert_eq!(
        o.cmd(&["ACL", "SETUSER", "lim", "on", "nopass", "+sentinel|primary"]),
        b"+OK\r\n"
    );
    let mut lim = Raw::connect(ours.port);
    assert_eq!(lim.cmd(&["AUTH", "lim", "x"]), b"+OK\r\n");
    let m = lim.cmd(&["SENTINEL", "MASTER", "mymaster"]);
    assert_eq!(field(&parse_pairs(&m), "name"), "mymaster");
    let m = lim.cmd(&["SENTINEL", "PRIMARY", "mymaster"]);
    assert_eq!(field(&parse_pairs(&m), "name"), "mymaster");
    assert_eq!(
        String::from_utf8_lossy(&lim.cmd(&["SENTINEL", "PRIMARIES"])),
        "-NOPERM this user has no permissions to run the 'sentinel|primaries' command\r\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&lim.cmd(&["SENTINEL", "MASTERS"])),
        "-NOPERM this user has no permissions to run the 'sentinel|masters' command\r\n"
    );
    // SENTINEL SET with Valkey's option name, persisted with the 7.0 one.
    assert_eq!(
        o.cmd(&[
            "SENTINEL",
            "SET",
            "mymaster",
            "primary-reboot-down-after-period",
            "4000"
        ]),
        b"+OK\r\n"
    );
    assert!(
        ours.conf_text()
            .contains("sentinel master-reboot-down-after-period mymaster 4000"),
        "{}",
        ours.conf_text()
    );
}

#[test]
fn info_total_tilt_opt_in_adds_the_redis_8_line() {
    require!("redis-server");
    let master = redis_server(&[]);
    let conf = format!(
        "sentinel info-total-tilt yes\nsentinel monitor mymaster 127.0.0.1 {} 2\n",
        master.port
    );
    let ours = sentinel(&rsentinel_bin(), &conf);
    let mut o = Raw::connect(ours.port);
    let fields = info_fields(&o.cmd(&["INFO", "sentinel"]));
    let at = fields
        .iter()
        .position(|f| f == "sentinel_total_tilt")
        .unwrap();
    assert_eq!(fields[at - 1], "sentinel_tilt_since_seconds");
    assert_eq!(
        o.cmd(&["SENTINEL", "DEBUG", "TILT-TRIGGER", "1"]),
        b"+OK\r\n"
    );
    wait_until("a TILT counted", Duration::from_secs(10), || {
        String::from_utf8_lossy(&o.cmd(&["INFO", "sentinel"])).contains("sentinel_total_tilt:1")
    });
}
