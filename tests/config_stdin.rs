//! `redis-sentinel file -`: config text from stdin goes after the file and before the
//! `--option` lines.

use rsentinel::config::{load_with_stdin, reads_stdin};

fn a(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn dash_means_stdin_first_or_last() {
    assert!(reads_stdin(&a(&["-"])));
    assert!(reads_stdin(&a(&["s.conf", "-"])));
    assert!(reads_stdin(&a(&["s.conf", "--port", "1", "-"])));
    assert!(!reads_stdin(&a(&["s.conf"])));
    assert!(!reads_stdin(&a(&["s.conf", "--port", "-", "--x", "1"])));
}

#[test]
fn stdin_text_sits_between_file_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.conf");
    std::fs::write(&p, "bind 127.0.0.1\nsentinel monitor m 127.0.0.1 6999 2\n").unwrap();
    let l = load_with_stdin(&p, Some("port 26411\nloglevel verbose\n"), &[]).unwrap();
    assert_eq!(l.server.port, 26411);
    let over = vec![a(&["port", "26412"])];
    let l = load_with_stdin(&p, Some("port 26411\n"), &over).unwrap();
    assert_eq!(l.server.port, 26412);
}
