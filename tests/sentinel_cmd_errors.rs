//! Every SENTINEL error case of golden/resp/02-errors, byte for byte.

use crate::support::fixture::*;
use crate::support::golden;
use crate::support::resp::*;

#[test]
fn every_sentinel_error_reply_matches_golden_bytes() {
    let mut core = core_from(&s1_config(41000, &[41002, 41001]));
    let mut checked = 0;
    for (conn, cmd, file) in golden::transcript("02-errors") {
        if !cmd.to_ascii_uppercase().starts_with("SENTINEL") {
            continue;
        }
        let proto = if conn == "h:41100" { 3 } else { 2 };
        let got = run(&mut core, &cmd).to_bytes(proto).to_vec();
        // 7.0.15 refuses several CONFIG GET patterns with its usage error; rsentinel
        // answers them as Redis 7.2 does (issue #12, see sentinel_cmd_valkey).
        let want = if cmd == "SENTINEL CONFIG GET a b" {
            b"*0\r\n".to_vec()
        } else {
            golden::resp(&file)
        };
        assert_eq!(show(&got), show(&want), "{cmd}");
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} SENTINEL commands checked");
    // Errors change nothing: no event, no flush.
    assert!(events(&core.drain_actions()).is_empty());
    assert_eq!(core.masters().len(), 1);
    assert_eq!(core.masters()[0].quorum, 2);
}

#[test]
fn unknown_subcommand_names_the_container_as_sent_upper_cased() {
    let mut core = core_from(&s1_config(41000, &[]));
    let r = run(&mut core, "sentinel frob x");
    assert_eq!(
        show(&resp2(&r)),
        "-ERR unknown subcommand 'frob'. Try SENTINEL HELP.\\r\\n "
    );
    // CR/LF in user text never reach the wire.
    let args = vec![bytes::Bytes::from("SENTINEL"), bytes::Bytes::from("a\r\nb")];
    let now = clock(&mut core);
    let r = rsentinel::commands::sentinel::sentinel_command(&mut core, now, &args);
    assert_eq!(
        show(&resp2(&r)),
        "-ERR unknown subcommand 'a  b'. Try SENTINEL HELP.\\r\\n "
    );
}

#[test]
fn integer_arguments_follow_redis_string2ll() {
    let mut core = core_from(&s1_config(41000, &[]));
    for bad in ["+2", " 2", "02", "2 ", "-0", "", "99999999999999999999"] {
        let r = run(&mut core, &format!("SENTINEL DEBUG ping-period \"{bad}\""));
        assert_eq!(
            r,
            rsentinel::resp::Reply::err(format!(
                "ERR Invalid argument '{bad}' for SENTINEL DEBUG 'ping-period'"
            )),
            "{bad:?}"
        );
    }
    assert_eq!(core.timing().ping_period, 1000);
}
