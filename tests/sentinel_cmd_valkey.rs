//! Valkey 8 / Redis 7.2+ spellings (issue #12), additive: the new names answer with the
//! bytes real redis-sentinel 7.0.15 gave for the old ones (golden/resp/01-steady), the
//! old names and 7.0.15's replies stay as they are, and the several-parameter forms of
//! SENTINEL CONFIG follow Redis 7.2's sentinel.c (its messages and all-or-nothing SET).

use crate::sentinel_cmd_read::steady;
use crate::support::fixture::*;
use crate::support::golden;
use crate::support::resp::*;
use rsentinel::commands::sentinel::info_sentinel_section;
use rsentinel::config::LogLevel;
use rsentinel::core::Action;

fn golden_bytes(prefix: &str) -> String {
    txt(&golden::resp_file("01-steady", prefix))
}

fn txt(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn primary_spellings_answer_like_the_master_ones() {
    let mut core = steady();
    for (new, old) in [
        ("SENTINEL PRIMARIES", "SENTINEL MASTERS"),
        ("SENTINEL PRIMARY mymaster", "SENTINEL MASTER mymaster"),
        ("sentinel primary nosuch", "SENTINEL MASTER nosuch"),
        (
            "SENTINEL GET-PRIMARY-ADDR-BY-NAME mymaster",
            "SENTINEL GET-MASTER-ADDR-BY-NAME mymaster",
        ),
        (
            "SENTINEL IS-PRIMARY-DOWN-BY-ADDR 127.0.0.1 41000 0 *",
            "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 41000 0 *",
        ),
    ] {
        let a = txt(&resp2(&run(&mut core, new)));
        let b = txt(&resp2(&run(&mut core, old)));
        assert_eq!(a, b, "{new}");
    }
    // Byte-exact against the 7.0.15 captures of the old names.
    for (cmd, file) in [
        ("SENTINEL GET-PRIMARY-ADDR-BY-NAME mymaster", "010-"),
        ("SENTINEL GET-PRIMARY-ADDR-BY-NAME nosuch", "011-"),
        (
            "SENTINEL IS-PRIMARY-DOWN-BY-ADDR 127.0.0.1 41000 0 *",
            "019-",
        ),
        (
            "SENTINEL IS-PRIMARY-DOWN-BY-ADDR 127.0.0.1 40999 0 *",
            "020-",
        ),
        // HELP is 7.0.15's, unchanged.
        ("sentinel help", "023-"),
    ] {
        assert_eq!(
            txt(&resp2(&run(&mut core, cmd))),
            golden_bytes(file),
            "{cmd}"
        );
    }
    assert_eq!(
        txt(&resp2(&run(&mut core, "SENTINEL PRIMARY"))),
        "-ERR wrong number of arguments for 'sentinel|primary' command\r\n"
    );
    assert_eq!(
        txt(&resp2(&run(&mut core, "SENTINEL PRIMARIES x"))),
        "-ERR wrong number of arguments for 'sentinel|primaries' command\r\n"
    );
}

#[test]
fn is_primary_down_by_addr_votes_like_the_master_spelling() {
    let mut core = steady();
    let epoch = core.current_epoch() + 1;
    let r = txt(&resp2(&run(
        &mut core,
        &format!(
            "SENTINEL IS-PRIMARY-DOWN-BY-ADDR 127.0.0.1 41000 {epoch} {}",
            "b".repeat(40)
        ),
    )));
    assert_eq!(
        r,
        format!("*3\r\n:0\r\n$40\r\n{}\r\n:{epoch}\r\n", "b".repeat(40))
    );
}

#[test]
fn config_get_takes_several_patterns_like_redis_7_2() {
    let mut core = steady();
    // One pattern: exactly 7.0.15's replies.
    for (cmd, file) in [
        ("SENTINEL CONFIG GET *", "015-"),
        ("SENTINEL CONFIG GET announce-ip", "016-"),
        ("SENTINEL CONFIG GET announce-*", "017-"),
        ("SENTINEL CONFIG GET nosuch", "018-"),
    ] {
        assert_eq!(
            txt(&resp2(&run(&mut core, cmd))),
            golden_bytes(file),
            "{cmd}"
        );
    }
    // Several: each option once, in pattern order then option order.
    let r = txt(&resp2(&run(
        &mut core,
        "SENTINEL CONFIG GET announce-ip announce-* nosuch announce-ip",
    )));
    assert_eq!(
        r,
        "*6\r\n$11\r\nannounce-ip\r\n$0\r\n\r\n$18\r\nannounce-hostnames\r\n$2\r\nno\r\n\
         $13\r\nannounce-port\r\n$1\r\n0\r\n"
    );
    let r = txt(&resp2(&run(
        &mut core,
        "SENTINEL CONFIG GET resolve-hostnames sentinel-user",
    )));
    assert_eq!(
        r,
        "*4\r\n$17\r\nresolve-hostnames\r\n$2\r\nno\r\n$13\r\nsentinel-user\r\n$0\r\n\r\n"
    );
}

#[test]
fn config_set_takes_several_pairs_all_or_nothing() {
    let mut core = steady();
    let get = |core: &mut rsentinel::core::Sentinel| {
        txt(&resp2(&run(core, "SENTINEL CONFIG GET announce-*")))
    };
    let before = get(&mut core);
    for (cmd, reply) in [
        (
            "SENTINEL CONFIG SET announce-port 1234 bogus 1",
            "-ERR Invalid argument 'bogus' to SENTINEL CONFIG SET\r\n",
        ),
        (
            "SENTINEL CONFIG SET announce-port 1234 ANNOUNCE-PORT 5",
            "-ERR Duplicate argument 'ANNOUNCE-PORT' to SENTINEL CONFIG SET\r\n",
        ),
        (
            "SENTINEL CONFIG SET announce-port 1234 announce-ip",
            "-ERR Missing argument 'announce-ip' value\r\n",
        ),
        (
            "SENTINEL CONFIG SET announce-ip 10.0.0.1 announce-port 70000",
            "-ERR Invalid value '70000' to SENTINEL CONFIG SET 'announce-port'\r\n",
        ),
        (
            "SENTINEL CONFIG SET announce-ip 10.0.0.1 resolve-hostnames maybe",
            "-ERR Invalid value 'maybe' to SENTINEL CONFIG SET 'resolve-hostnames'\r\n",
        ),
        // 7.0.15's usage error for a lone option is kept.
        (
            "SENTINEL CONFIG SET announce-port",
            "-ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.\r\n",
        ),
    ] {
        assert_eq!(txt(&resp2(&run(&mut core, cmd))), reply, "{cmd}");
        assert_eq!(get(&mut core), before, "{cmd} applied something");
    }
    assert!(core.drain_actions().is_empty());
    let r = txt(&resp2(&run(
        &mut core,
        "SENTINEL CONFIG SET announce-ip 10.0.0.1 announce-port 1234",
    )));
    assert_eq!(r, "+OK\r\n");
    assert_eq!(core.announce_ip(), Some("10.0.0.1"));
    assert_eq!(core.announce_port(), 1234);
    assert!(core.drain_actions().contains(&Action::PersistConfig));
}

#[test]
fn sentinel_set_accepts_primary_reboot_down_after_period() {
    let mut core = steady();
    let r = txt(&resp2(&run(
        &mut core,
        "SENTINEL SET mymaster primary-reboot-down-after-period 5000",
    )));
    assert_eq!(r, "+OK\r\n");
    assert_eq!(core.masters()[0].master_reboot_down_after_period_ms, 5000);
    let actions = core.drain_actions();
    assert!(actions.iter().any(|a| matches!(a,
        Action::Event { level: LogLevel::Warning, channel, payload, .. }
            if channel == "+set"
                && payload.ends_with("primary-reboot-down-after-period 5000"))));
    assert_eq!(
        core.config_snapshot().masters[0].master_reboot_down_after_period_ms,
        5000
    );
    let r = txt(&resp2(&run(
        &mut core,
        "SENTINEL SET mymaster primary-reboot-down-after-period -1",
    )));
    assert_eq!(
        r,
        "-ERR Invalid argument '-1' for SENTINEL SET 'primary-reboot-down-after-period'\r\n"
    );
}

#[test]
fn sentinel_total_tilt_only_when_opted_in() {
    // Default: 7.0.15's section, no total line (byte-identical, see sentinel_cmd_read).
    let mut sim = Sim::standard();
    sim.run(1000, 100, true);
    let info = info_sentinel_section(&sim.core, sim.now);
    assert!(!info.contains("total_tilt"), "{info}");

    let mut cfg = config(vec![master_cfg()]);
    cfg.info_total_tilt = true;
    let mut sim = Sim::new(cfg);
    sim.run(1000, 100, true);
    let info = info_sentinel_section(&sim.core, sim.now);
    assert!(
        info.contains("sentinel_tilt_since_seconds:-1\r\nsentinel_total_tilt:0\r\nsentinel_running_scripts:0\r\n"),
        "{info}"
    );
    // A stall longer than TILT-TRIGGER: TILT, counted.
    let t = sim.now + 5_000;
    sim.tick_at(t);
    assert!(sim.core.tilt());
    let info = info_sentinel_section(&sim.core, sim.now);
    assert!(info.contains("\r\nsentinel_total_tilt:1\r\n"), "{info}");
    assert!(sim.core.config_snapshot().info_total_tilt);
}

#[test]
fn info_total_tilt_directive_loads_and_rewrites_only_when_on() {
    use rsentinel::config::{load, rewrite_text};
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("s.conf");
    let base = "sentinel monitor m 127.0.0.1 6379 2\n";
    for (text, on) in [
        (base.to_string(), false),
        (format!("{base}sentinel info-total-tilt yes\n"), true),
        (format!("{base}sentinel info-total-tilt no\n"), false),
    ] {
        std::fs::write(&p, &text).unwrap();
        let l = load(&p, &[]).unwrap();
        assert_eq!(l.sentinel.info_total_tilt, on, "{text}");
        let out = rewrite_text(&text, &l.generic, &l.server, &l.sentinel);
        assert_eq!(out.contains("sentinel info-total-tilt yes"), on, "{out}");
        if !on {
            assert!(!out.contains("info-total-tilt yes"));
        }
    }
    std::fs::write(&p, "sentinel info-total-tilt maybe\n").unwrap();
    let e = load(&p, &[]).unwrap_err().to_string();
    assert!(
        e.contains("Please specify yes or no for the info-total-tilt option."),
        "{e}"
    );
}
