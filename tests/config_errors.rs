//! Exact fatal-error texts of the loader (golden/cli/cli-errors.txt and the real binary).

use rsentinel::config::{ConfigErrorKind, args_to_lines, load, split_args};

fn err_of(body: &str, overrides: &[Vec<String>]) -> String {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("e.conf");
    std::fs::write(&p, body).unwrap();
    let e = load(&p, overrides).unwrap_err();
    assert_eq!(e.kind(), ConfigErrorKind::BadLine);
    e.to_string()
}

fn block(n: usize, line: &str, msg: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {n}\n>>> '{line}'\n{msg}"
    )
}

#[test]
fn golden_cli_error_blocks() {
    let cases = [
        (
            "sentinel monitor m1 127.0.0.1 41000 0",
            "Quorum must be 1 or greater.",
        ),
        (
            "sentinel bogus-directive foo",
            "Unrecognized sentinel configuration statement.",
        ),
        (
            "sentinel down-after-milliseconds nosuch 1000",
            "No such master with specified name.",
        ),
        (
            "sentinel monitor m1 not-an-ip 41000 2",
            "Can't resolve instance hostname.",
        ),
        ("sentinel myid abc", "Malformed Sentinel id in myid option."),
        (
            "sentinel monitor m1 127.0.0.1 99999 2",
            "Invalid port number.",
        ),
        ("bogus 1", "Bad directive or wrong number of arguments"),
        ("port", "wrong number of arguments"),
        ("port abc", "argument couldn't be parsed into an integer"),
        (
            "port 99999",
            "argument must be between 0 and 65535 inclusive",
        ),
        ("appendonly maybe", "argument must be 'yes' or 'no'"),
        (
            "loglevel foo",
            "argument(s) must be one of the following: debug, verbose, notice, warning",
        ),
        ("maxmemory abc", "argument must be a memory value"),
        ("dir /nonexistent", "No such file or directory"),
        ("\"unbalanced", "Unbalanced quotes in configuration line"),
        (
            "maxclients 0",
            "argument must be between 1 and 4294967295 inclusive",
        ),
        ("save 10", "Invalid save parameters"),
        ("rename-command NOPE x", "No such command in rename-command"),
        (
            "rename-command ping info",
            "Target command name already exists",
        ),
        (
            "client-output-buffer-limit pubsub 1 2",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        (
            "notify-keyspace-events Z",
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
        ),
        (
            "maxmemory-clients 200%",
            "percentage argument must be less or equal to 100",
        ),
    ];
    for (line, msg) in cases {
        let got = err_of(&format!("port 30031\n{line}\n"), &[]);
        assert_eq!(got, block(2, line, msg));
    }
    let dup =
        "port 1\nsentinel monitor m1 127.0.0.1 41000 2\nsentinel monitor m1 127.0.0.1 41001 2\n";
    assert_eq!(
        err_of(dup, &[]),
        block(
            3,
            "sentinel monitor m1 127.0.0.1 41001 2",
            "Duplicate master name."
        )
    );
    let script = "port 1\nsentinel monitor m1 127.0.0.1 41000 2\nsentinel notification-script m1 /nonexistent/script.sh\n";
    assert_eq!(
        err_of(script, &[]),
        block(
            3,
            "sentinel notification-script m1 /nonexistent/script.sh",
            "Notification script seems non existing or non executable."
        )
    );
}

#[test]
fn override_lines_are_quoted_and_numbered_after_the_file() {
    let args: Vec<String> = [
        "e.conf",
        "--sentinel",
        "monitor",
        "m2",
        "127.0.0.1",
        "30098",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (path, lines) = args_to_lines(&args);
    assert_eq!(path.as_deref(), Some("e.conf"));
    let got = err_of("port 30031\nsentinel monitor m 127.0.0.1 30099 2\n", &lines);
    assert_eq!(
        got,
        block(
            4,
            "sentinel \"monitor\" \"m2\" \"127.0.0.1\" \"30098\" \"0\"",
            "Quorum must be 1 or greater."
        )
    );
    let (_, lines) = args_to_lines(&[
        "--loglevel".into(),
        "foo".into(),
        "--port".into(),
        "1".into(),
    ]);
    let got = err_of("port 30031\nsentinel monitor m 127.0.0.1 30099 2\n", &lines);
    assert_eq!(
        got,
        block(
            4,
            "loglevel \"foo\"",
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        )
    );
}

#[test]
fn missing_file_message() {
    let e = load(std::path::Path::new("/nonexistent/x.conf"), &[]).unwrap_err();
    assert_eq!(e.kind(), ConfigErrorKind::CantOpen);
    assert_eq!(
        e.to_string(),
        "Fatal error, can't open config file '/nonexistent/x.conf': No such file or directory"
    );
}

#[test]
fn cli_args() {
    let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (p, l) = args_to_lines(&a(&["--port", "41900"]));
    assert_eq!(p, None);
    assert_eq!(l, vec![a(&["port", "41900"])]);
    let (p, l) = args_to_lines(&a(&[
        "s.conf",
        "--sentinel",
        "--port",
        "1",
        "--loglevel",
        "verbose",
    ]));
    assert_eq!(p.as_deref(), Some("s.conf"));
    assert_eq!(
        l,
        vec![
            a(&["sentinel"]),
            a(&["port", "1"]),
            a(&["loglevel", "verbose"])
        ]
    );
}

#[test]
fn tokenizer_matches_sdssplitargs() {
    let s = |v: &[&str]| Some(v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    assert_eq!(split_args(r#"a "b c" 'd e'"#), s(&["a", "b c", "d e"]));
    assert_eq!(split_args(r#""\x41\n""#), s(&["A\n"]));
    assert_eq!(split_args(r#"'it\'s'"#), s(&["it's"]));
    assert_eq!(split_args(r#""abc"def"#), None);
    assert_eq!(split_args(r#""abc"#), None);
    assert_eq!(split_args("   "), s(&[]));
}

/// The fuzz input that crashed the loader (issue #15, target config_roundtrip): a `user`
/// rule made of bytes that are not UTF-8 (read as U+FFFD). Loading now fails with the
/// FATAL block naming the line instead of panicking.
#[test]
fn fuzz_crash_user_rule_with_invalid_utf8_is_an_error() {
    let text: &[u8] = b"port 41001\nuser default \xff\xff\x10\x00\x9d\x00\x00\x00s sanit\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sentinel.conf");
    std::fs::write(&path, text).unwrap();
    let Err(e) = load(&path, &[]) else {
        panic!("the bad rule must be refused");
    };
    let msg = e.to_string();
    assert!(msg.contains(">>> 'user default"), "{msg}");
    assert!(msg.contains("Syntax error"), "{msg}");
}

/// `include` with a wildcard is a glob(3) pattern, as in Redis 7.0: every match is read
/// (in glob's sorted order), no match is no error (an empty conf.d), while a plain name
/// that does not open is fatal. Checked against redis-sentinel 7.0.15.
#[test]
fn include_globs_wildcards_and_skips_an_empty_match() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("conf.d");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(
        d.join("a.conf"),
        "sentinel down-after-milliseconds m 5000\n",
    )
    .unwrap();
    std::fs::write(
        d.join("b.conf"),
        "sentinel down-after-milliseconds m 7000\n",
    )
    .unwrap();
    let main = t.path().join("s.conf");
    let body = format!(
        "sentinel monitor m 127.0.0.1 6379 2\ninclude {}/*.conf\ninclude {}/none-*.conf\n",
        d.display(),
        d.display()
    );
    std::fs::write(&main, body).unwrap();
    let loaded = load(&main, &[]).unwrap();
    // b.conf comes after a.conf.
    assert_eq!(loaded.sentinel.masters[0].down_after_ms, 7000);
    std::fs::write(&main, format!("include {}/none.conf\n", d.display())).unwrap();
    let e = load(&main, &[]).unwrap_err();
    assert_eq!(e.kind(), ConfigErrorKind::CantOpen);
}

/// `client-output-buffer-limit` with no argument changes nothing and is no error (Redis
/// only asks for a multiple of four); one to three arguments are.
#[test]
fn client_output_buffer_limit_without_arguments_loads() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("s.conf");
    std::fs::write(
        &p,
        "sentinel monitor m 127.0.0.1 6379 2\nclient-output-buffer-limit\n",
    )
    .unwrap();
    assert!(load(&p, &[]).is_ok());
    assert_eq!(
        err_of("client-output-buffer-limit normal 0\n", &[]),
        block(
            1,
            "client-output-buffer-limit normal 0",
            "Wrong number of arguments in buffer limit configuration."
        )
    );
}

/// A file that includes itself (`include *.conf` in its own directory) is an error after
/// 32 nested includes; redis-sentinel 7.0.15 dies of a stack overflow on it.
#[test]
fn an_include_loop_is_an_error_not_a_crash() {
    let t = tempfile::tempdir().unwrap();
    let main = t.path().join("s.conf");
    let body = format!(
        "sentinel monitor m 127.0.0.1 6379 2\ninclude {}/*.conf\n",
        t.path().display()
    );
    std::fs::write(&main, body).unwrap();
    let e = load(&main, &[]).unwrap_err();
    assert_eq!(e.kind(), ConfigErrorKind::CantOpen);
    assert!(e.to_string().contains("nested includes"), "{e}");
}
