//! `rsentinel demo` end to end (it needs only redis-server), and the argv rule that
//! keeps redis-sentinel's invocation intact: a config file literally named `demo`
//! that exists is still a config path.

use crate::harness::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn demo_fails_over_and_exits_0() {
    require!("redis-server");
    let dir = tempdir("demo");
    let start = Instant::now();
    let out = Command::new(rsentinel_bin())
        .arg("demo")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("run rsentinel demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo exited {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("+switch-master"), "{stdout}");
    assert!(stdout.contains("Failover timeline"), "{stdout}");
    assert!(stdout.contains("converging: done"), "{stdout}");
    // Every sentinel switched; the new topology names a master on another port.
    for s in ["s1", "s2", "s3"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(&format!(" {s}  +switch-master demo-master"))),
            "{s} did not switch:\n{stdout}"
        );
    }
    assert!(stdout.contains("New topology"), "{stdout}");
    // Its directory is gone afterwards.
    let demo_dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("rsentinel demo: files in "))
        .expect("demo directory line");
    assert!(
        !std::path::Path::new(demo_dir).exists(),
        "{demo_dir} left behind"
    );
    eprintln!("demo took {:?}", start.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_config_file_named_demo_is_still_a_config_path() {
    let dir = tempdir("demo-conf");
    let port = free_port();
    std::fs::write(
        dir.join("demo"),
        format!("port {port}\nbind 127.0.0.1\nsentinel monitor m 127.0.0.1 1 2\n"),
    )
    .unwrap();
    let mut child = Command::new(rsentinel_bin())
        .arg("demo")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut listening = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            drop(c.set_read_timeout(Some(Duration::from_secs(5))));
            let _ = std::io::Write::write_all(&mut c, b"SENTINEL MASTERS\r\n");
            listening = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(listening, "rsentinel did not run the config file `demo`");
    // The sentinel rewrote it, as it does its config file.
    let text = std::fs::read_to_string(dir.join("demo")).unwrap();
    assert!(text.contains("sentinel myid "), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
