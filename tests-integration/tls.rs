//! TLS (issue #13) with real processes: certificates made at run time with the openssl
//! CLI (nothing checked in), `redis-cli --tls` against `tls-port`, client certificate
//! policy, start-up errors compared with the real redis-sentinel, and failovers of
//! TLS-only redis-server nodes (`port 0`, `tls-replication yes`), rsentinel alone and in
//! a mixed cluster with real redis-sentinel.

use crate::harness::*;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A throw-away CA and one certificate signed by it (server and client use, like the
/// certificates of redis' own `gen-test-certs.sh`), plus an encrypted key, an unrelated
/// key and DH parameters for the error cases.
pub struct Certs {
    pub dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Certs {
    pub fn new() -> Certs {
        let dir = tempdir("tls-certs");
        let o = |a: &[&str]| openssl(&dir, a);
        o(&["genrsa", "-out", "ca.key", "2048"]);
        o(&[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-sha256",
            "-key",
            "ca.key",
            "-days",
            "2",
            "-subj",
            "/O=rsentinel test/CN=Test CA",
            "-out",
            "ca.crt",
        ]);
        let sign = |name: &str, key_pass: Option<&str>| {
            let key = format!("{name}.key");
            let csr = format!("{name}.csr");
            let crt = format!("{name}.crt");
            let subj = format!("/O=rsentinel test/CN={name}");
            match key_pass {
                None => o(&["genrsa", "-out", &key, "2048"]),
                Some(p) => o(&[
                    "genrsa",
                    "-aes256",
                    "-passout",
                    &format!("pass:{p}"),
                    "-out",
                    &key,
                    "2048",
                ]),
            }
            let mut req = vec!["req", "-new", "-sha256", "-subj", &subj, "-key", &key];
            let pass_arg = key_pass.map(|p| format!("pass:{p}"));
            if let Some(p) = &pass_arg {
                req.extend(["-passin", p]);
            }
            req.extend(["-out", &csr]);
            o(&req);
            o(&[
                "x509",
                "-req",
                "-sha256",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                &crt,
            ]);
        };
        sign("redis", None);
        sign("client", None);
        sign("enc", Some("s3cret"));
        o(&["genrsa", "-out", "other.key", "2048"]);
        // A second CA, for peers the first one does not vouch for.
        o(&["genrsa", "-out", "rogue-ca.key", "2048"]);
        o(&[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-sha256",
            "-key",
            "rogue-ca.key",
            "-days",
            "2",
            "-subj",
            "/CN=Rogue CA",
            "-out",
            "rogue-ca.crt",
        ]);
        // A server certificate signed by it.
        o(&["genrsa", "-out", "rogue.key", "2048"]);
        o(&[
            "req",
            "-new",
            "-sha256",
            "-subj",
            "/CN=rogue",
            "-key",
            "rogue.key",
            "-out",
            "rogue.csr",
        ]);
        o(&[
            "x509",
            "-req",
            "-sha256",
            "-in",
            "rogue.csr",
            "-CA",
            "rogue-ca.crt",
            "-CAkey",
            "rogue-ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "rogue.crt",
        ]);
        // Too small for OpenSSL 3's default security level, and a usable group.
        o(&["dhparam", "-out", "dh.pem", "512"]);
        o(&[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DH",
            "-pkeyopt",
            "dh_param:ffdhe2048",
            "-out",
            "dh2048.pem",
        ]);
        Certs { dir }
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// The server-side directives every TLS process of these tests uses.
    pub fn conf(&self) -> String {
        format!(
            "tls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\n",
            self.path("redis.crt"),
            self.path("redis.key"),
            self.path("ca.crt")
        )
    }

    /// `redis-cli --tls` arguments with the client certificate.
    pub fn cli_args(&self) -> Vec<String> {
        vec![
            "--tls".into(),
            "--cacert".into(),
            self.path("ca.crt"),
            "--cert".into(),
            self.path("client.crt"),
            "--key".into(),
            self.path("client.key"),
        ]
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs `redis-cli` with `tls_args` against `port`; (exit success, stdout, stderr).
pub fn cli_with(tls_args: &[String], port: u16, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("redis-cli")
        .args(tls_args)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn cli(certs: &Certs, port: u16, args: &[&str]) -> String {
    cli_with(&certs.cli_args(), port, args).1
}

/// The value after `key` in a redis-cli listing of a map reply (one item per line).
fn value_of(listing: &str, key: &str) -> String {
    let lines: Vec<&str> = listing.lines().collect();
    lines
        .iter()
        .position(|l| *l == key)
        .and_then(|i| lines.get(i + 1))
        .map(|v| v.to_string())
        .unwrap_or_default()
}

fn wait_listening(port: u16, child: &mut std::process::Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{what} on TLS port {port} exited early: {st}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on {port}");
}

/// A TLS-only redis-server (`port 0`, `tls-port`, `tls-replication yes`).
pub fn tls_node(certs: &Certs, extra: &[&str]) -> Proc {
    let port = free_port();
    let dir = tempdir("tls-redis");
    let mut child = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string()])
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(&dir)
        .args(["--tls-cert-file", &certs.path("redis.crt")])
        .args(["--tls-key-file", &certs.path("redis.key")])
        .args(["--tls-ca-cert-file", &certs.path("ca.crt")])
        .args(["--tls-replication", "yes"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    wait_listening(port, &mut child, "redis-server");
    Proc {
        child,
        port,
        dir,
        name: "redis-server (TLS)".into(),
    }
}

/// A sentinel on a TLS-only port: `port 0`, `tls-port`, the certificates, then `body`.
pub fn tls_sentinel(bin: &Path, certs: &Certs, body: &str) -> Proc {
    let port = free_port();
    let dir = tempdir("tls-sentinel");
    let conf = dir.join("sentinel.conf");
    let text = format!(
        "port 0\ntls-port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n{}{body}",
        dir.display(),
        dir.join("sentinel.log").display(),
        certs.conf()
    );
    std::fs::write(&conf, text).unwrap();
    let mut child = Command::new(bin)
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sentinel");
    wait_listening(port, &mut child, &bin.display().to_string());
    Proc {
        child,
        port,
        dir,
        name: bin.display().to_string(),
    }
}

fn log_of(p: &Proc) -> String {
    std::fs::read_to_string(p.dir.join("sentinel.log")).unwrap_or_default()
}

#[test]
fn redis_cli_tls_talks_to_tls_port_like_the_real_one() {
    require!("redis-sentinel");
    require!("redis-cli");
    require!("openssl");
    let certs = Certs::new();
    let body = "sentinel monitor mymaster 127.0.0.1 6 2\n";
    let ours = tls_sentinel(&rsentinel_bin(), &certs, body);
    let real = tls_sentinel(Path::new("redis-sentinel"), &certs, body);
    for s in [&ours, &real] {
        assert_eq!(cli(&certs, s.port, &["PING"]), "PONG\n", "{}", s.name);
        let info = cli(&certs, s.port, &["INFO", "server"]);
        assert!(
            info.contains(&format!("tcp_port:{}\r\n", s.port)),
            "{}: {info}",
            s.name
        );
        assert_eq!(
            cli(
                &certs,
                s.port,
                &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]
            ),
            "127.0.0.1\n6\n"
        );
    }
    // Both refuse run-time changes of the TLS directives the same way.
    for args in [
        &["SENTINEL", "CONFIG", "SET", "tls-port", "1"][..],
        &["SENTINEL", "CONFIG", "GET", "tls-port"],
        &["CONFIG", "GET", "tls-port"],
    ] {
        assert_eq!(
            cli(&certs, ours.port, args),
            cli(&certs, real.port, args),
            "{args:?}"
        );
    }
    // Plain text on the TLS port: the handshake fails, the connection is dropped.
    let (ok, _, _) = cli_with(&[], ours.port, &["PING"]);
    assert!(!ok);
    // The readiness probe (a bare TCP connect, closed at once) is logged the same way.
    for s in [&ours, &real] {
        wait_until(
            &format!("{}: handshake EOF logged", s.name),
            Duration::from_secs(5),
            || {
                log_of(s).contains(
                    "# Error accepting a client connection: \
                     error:0A000126:SSL routines::unexpected eof while reading",
                )
            },
        );
    }
    // The same start-up line; the rewrite keeps the tls lines and adds no defaults.
    let line = format!("Running mode=sentinel, port={}.", ours.port);
    assert!(log_of(&ours).contains(&line), "{}", log_of(&ours));
    for s in [&ours, &real] {
        let conf = s.conf_text();
        let tls_lines: Vec<&str> = conf.lines().filter(|l| l.starts_with("tls-")).collect();
        assert_eq!(tls_lines.len(), 4, "{}: {conf}", s.name);
    }
}

#[test]
fn tls_auth_clients_policies_match_the_real_one() {
    require!("redis-sentinel");
    require!("redis-cli");
    require!("openssl");
    let certs = Certs::new();
    let no_cert = vec!["--tls".to_string(), "--cacert".into(), certs.path("ca.crt")];
    for (policy, accepted) in [("yes", false), ("optional", true), ("no", true)] {
        let body = format!("tls-auth-clients {policy}\nsentinel monitor mymaster 127.0.0.1 6 2\n");
        let ours = tls_sentinel(&rsentinel_bin(), &certs, &body);
        let real = tls_sentinel(Path::new("redis-sentinel"), &certs, &body);
        // A refused client sees the alert or a reset, depending on whether its PING
        // was already in the server's socket buffer: racy with both implementations.
        let a = cli_with(&no_cert, ours.port, &["PING"]);
        let b = cli_with(&no_cert, real.port, &["PING"]);
        assert_eq!((a.0, &a.1), (b.0, &b.1), "tls-auth-clients {policy}");
        assert_eq!(a.0, accepted, "tls-auth-clients {policy}: {a:?}");
        if !accepted {
            assert!(a.2.starts_with("Error: "), "{a:?}");
        }
        // With a certificate every policy accepts.
        assert_eq!(cli(&certs, ours.port, &["PING"]), "PONG\n");
        if !accepted {
            let want = "Error accepting a client connection: \
                        error:0A0000C7:SSL routines::peer did not return a certificate";
            for s in [&ours, &real] {
                wait_until("refusal logged", Duration::from_secs(5), || {
                    log_of(s).contains(want)
                });
            }
        }
        // A certificate from a CA we do not trust is refused by both.
        let rogue = vec![
            "--tls".to_string(),
            "--cacert".into(),
            certs.path("ca.crt"),
            "--cert".into(),
            certs.path("rogue-ca.crt"),
            "--key".into(),
            certs.path("rogue-ca.key"),
        ];
        let a = cli_with(&rogue, ours.port, &["PING"]);
        let b = cli_with(&rogue, real.port, &["PING"]);
        assert_eq!(
            a.0, b.0,
            "rogue certificate, tls-auth-clients {policy}: {a:?} {b:?}"
        );
    }
}

/// Start-up lines after the banner, without pid/time prefixes, and the exit status.
fn startup_errors(bin: &Path, conf_text: &str) -> (Vec<String>, Option<i32>) {
    let dir = tempdir("tls-err");
    let conf = dir.join("sentinel.conf");
    std::fs::write(&conf, conf_text).unwrap();
    let mut child = Command::new(bin)
        .arg(&conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let lines = text
        .lines()
        .filter(|l| !l.contains("oO0OoO0OoO0Oo") && !l.contains("Redis version="))
        .map(|l| match l.find(['#', '*']) {
            Some(i) if l.contains(":X ") => l[i..].to_string(),
            _ => l.to_string(),
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (lines, status)
}

#[test]
fn tls_startup_errors_match_the_real_one() {
    require!("redis-sentinel");
    require!("openssl");
    let certs = Certs::new();
    let p = |n: &str| certs.path(n);
    let port = free_port();
    let base = |cert: &str, key: &str, extra: &str| {
        format!(
            "port 0\ntls-port {port}\ntls-cert-file {cert}\ntls-key-file {key}\n{extra}\
             sentinel monitor mymaster 127.0.0.1 6 2\n"
        )
    };
    let ca = format!("tls-ca-cert-file {}\n", p("ca.crt"));
    let cases = vec![
        base(&p("missing.crt"), &p("redis.key"), &ca),
        base(&p("redis.crt"), &p("missing.key"), &ca),
        base(&p("redis.crt"), &p("other.key"), &ca),
        base(&p("enc.crt"), &p("enc.key"), &ca),
        base(
            &p("enc.crt"),
            &p("enc.key"),
            &format!("{ca}tls-key-file-pass wrong\n"),
        ),
        base(&p("redis.crt"), &p("redis.key"), ""),
        base(
            &p("redis.crt"),
            &p("redis.key"),
            &format!("tls-ca-cert-file {}\n", p("missing-ca.crt")),
        ),
        base(
            &p("redis.crt"),
            &p("redis.key"),
            &format!("{ca}tls-protocols \"TLSv1.2 SSLv3\"\n"),
        ),
        base(
            &p("redis.crt"),
            &p("redis.key"),
            &format!("{ca}tls-ciphers NOPE\n"),
        ),
        base(
            &p("redis.crt"),
            &p("redis.key"),
            &format!("{ca}tls-ciphersuites NOPE\n"),
        ),
        base(
            &p("redis.crt"),
            &p("redis.key"),
            &format!("{ca}tls-dh-params-file {}\n", p("missing.pem")),
        ),
        base(
            &p("redis.crt"),
            &p("redis.key"),
            &format!("{ca}tls-dh-params-file {}\n", p("ca.crt")),
        ),
        base(
            &p("redis.crt"),
            &p("redis.key"),
            &format!(
                "{ca}tls-client-cert-file {}\ntls-client-key-file {}\n",
                p("client.crt"),
                p("other.key")
            ),
        ),
        base(
            &p("redis.crt"),
            &p("redis.key"),
            &format!("{ca}tls-dh-params-file {}\n", p("dh.pem")),
        ),
        base(
            &p("redis.crt"),
            &p("redis.key"),
            &format!(
                "{ca}tls-client-cert-file {}\ntls-client-key-file {}\n\
                 tls-client-key-file-pass nope\n",
                p("enc.crt"),
                p("enc.key")
            ),
        ),
        format!("port 0\ntls-port {port}\nsentinel monitor mymaster 127.0.0.1 6 2\n"),
        format!(
            "port 0\ntls-port {port}\ntls-cert-file {}\nsentinel monitor mymaster 127.0.0.1 6 2\n",
            p("redis.crt")
        ),
        format!("port {port}\ntls-replication yes\nsentinel monitor mymaster 127.0.0.1 6 2\n"),
        "port 0\nsentinel monitor mymaster 127.0.0.1 6 2\n".to_string(),
        "tls-auth-clients maybe\n".to_string(),
        "tls-port 70000\n".to_string(),
        "tls-session-caching maybe\n".to_string(),
    ];
    for conf in cases {
        let ours = startup_errors(&rsentinel_bin(), &conf);
        let real = startup_errors(Path::new("redis-sentinel"), &conf);
        assert_eq!(ours, real, "config:\n{conf}");
        assert_eq!(ours.1, Some(1), "config:\n{conf}\n{ours:?}");
    }
}

fn failover_conf(master: u16) -> String {
    format!(
        "tls-replication yes\nsentinel monitor mymaster 127.0.0.1 {master} 2\n\
         sentinel down-after-milliseconds mymaster 2000\nsentinel failover-timeout mymaster 10000\n"
    )
}

fn master_of(certs: &Certs, sentinel: u16) -> u16 {
    cli(
        certs,
        sentinel,
        &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
    )
    .lines()
    .nth(1)
    .and_then(|p| p.parse().ok())
    .unwrap_or(0)
}

/// Kill the master of three TLS-only nodes and check the sentinels (every one of them
/// on TLS, talking to the nodes and to each other over TLS) fail over completely.
fn fail_over_tls_cluster(
    certs: &Certs,
    bins: &[PathBuf],
    extra_conf: &str,
    node_extra: &[&str],
    before_kill: impl FnOnce(&[Proc]),
) -> (Vec<Proc>, Vec<Proc>, u16) {
    let mut nodes = vec![tls_node(certs, node_extra)];
    let mp = nodes[0].port.to_string();
    let replica: Vec<&str> = ["--replicaof", "127.0.0.1", &mp]
        .into_iter()
        .chain(node_extra.iter().copied())
        .collect();
    nodes.push(tls_node(certs, &replica));
    nodes.push(tls_node(certs, &replica));
    let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
    let conf = format!("{extra_conf}{}", failover_conf(ports[0]));
    let sentinels: Vec<Proc> = bins.iter().map(|b| tls_sentinel(b, certs, &conf)).collect();
    for s in &sentinels {
        wait_until(
            &format!("discovery by {} over TLS", s.name),
            Duration::from_secs(30),
            || {
                let m = cli(certs, s.port, &["SENTINEL", "MASTER", "mymaster"]);
                value_of(&m, "num-slaves") == "2" && value_of(&m, "num-other-sentinels") == "2"
            },
        );
        // Peers are known by their TLS port: hellos announce tls-port.
        let peers = cli(certs, s.port, &["SENTINEL", "SENTINELS", "mymaster"]);
        for other in sentinels.iter().filter(|o| o.port != s.port) {
            assert!(
                peers.contains(&format!("\n{}\n", other.port)),
                "{} does not know {} by its TLS port: {peers}",
                s.name,
                other.port
            );
        }
    }
    before_kill(&sentinels);
    nodes[0].kill9();
    let old = ports[0];
    for s in &sentinels {
        wait_until(
            &format!("{} switched away from {old}", s.name),
            Duration::from_secs(40),
            || {
                let m = master_of(certs, s.port);
                m != 0 && m != old
            },
        );
    }
    let new_master = master_of(certs, sentinels[0].port);
    for s in &sentinels {
        assert_eq!(master_of(certs, s.port), new_master, "{}", s.name);
    }
    let role = cli(certs, new_master, &["ROLE"]);
    assert!(role.starts_with("master\n"), "{role}");
    let other = *ports
        .iter()
        .find(|p| **p != old && **p != new_master)
        .unwrap();
    wait_until(
        &format!("{other} replicating from {new_master} over TLS"),
        Duration::from_secs(40),
        || {
            let r = cli(certs, other, &["INFO", "replication"]);
            r.contains(&format!("master_port:{new_master}\r\n"))
                && r.contains("master_link_status:up\r\n")
        },
    );
    for s in &sentinels {
        wait_until(
            &format!("{}: +switch-master logged", s.name),
            Duration::from_secs(30),
            || log_of(s).contains("+switch-master mymaster"),
        );
    }
    (nodes, sentinels, new_master)
}

#[test]
fn rsentinels_fail_over_tls_only_nodes() {
    require!("redis-server");
    require!("redis-cli");
    require!("openssl");
    let certs = Certs::new();
    let bin = rsentinel_bin();
    fail_over_tls_cluster(&certs, &[bin.clone(), bin.clone(), bin], "", &[], |_| {});
}

#[test]
fn mixed_cluster_fails_over_over_tls() {
    require!("redis-server");
    require!("redis-sentinel");
    require!("redis-cli");
    require!("openssl");
    let certs = Certs::new();
    let bin = rsentinel_bin();
    let real = PathBuf::from("redis-sentinel");
    fail_over_tls_cluster(&certs, &[bin.clone(), real, bin], "", &[], |_| {});
}

#[test]
fn links_check_the_peer_certificate_against_the_ca_like_the_real_one() {
    require!("redis-server");
    require!("redis-sentinel");
    require!("redis-cli");
    require!("openssl");
    let certs = Certs::new();
    // Trusted: CN "redis" while we dial 127.0.0.1 (no hostname check, as in redis).
    let good = tls_node(&certs, &[]);
    let rogue = tls_node(
        &certs,
        &[
            "--tls-cert-file",
            &certs.path("rogue.crt"),
            "--tls-key-file",
            &certs.path("rogue.key"),
            "--tls-auth-clients",
            "no",
        ],
    );
    let body = format!(
        "tls-replication yes\n\
         sentinel monitor good 127.0.0.1 {} 2\nsentinel down-after-milliseconds good 1000\n\
         sentinel monitor rogue 127.0.0.1 {} 2\nsentinel down-after-milliseconds rogue 1000\n",
        good.port, rogue.port
    );
    let ours = tls_sentinel(&rsentinel_bin(), &certs, &body);
    let real = tls_sentinel(Path::new("redis-sentinel"), &certs, &body);
    for s in [&ours, &real] {
        wait_until(
            &format!("{}: untrusted master subjectively down", s.name),
            Duration::from_secs(15),
            || {
                // `disconnected` comes and goes: each TCP connect succeeds before the
                // handshake fails.
                value_of(
                    &cli(&certs, s.port, &["SENTINEL", "MASTER", "rogue"]),
                    "flags",
                )
                .starts_with("s_down,master")
            },
        );
        wait_until(
            &format!("{}: trusted master answers over TLS", s.name),
            Duration::from_secs(15),
            || {
                let m = cli(&certs, s.port, &["SENTINEL", "MASTER", "good"]);
                value_of(&m, "flags") == "master" && value_of(&m, "role-reported") == "master"
            },
        );
    }
}

/// A Sentinel-aware client (the `redis` crate over native-tls) asks the sentinels for
/// the master over TLS and writes to it, before and after a failover. The crate cannot
/// present a client certificate or trust a private CA through its Sentinel API, so the
/// processes accept clients without certificates (`tls-auth-clients optional`) and the
/// client skips verification (`#insecure`); the sentinels' own links still use the
/// certificates and verify them.
#[test]
fn sentinel_aware_client_follows_a_failover_over_tls() {
    require!("redis-server");
    require!("redis-cli");
    require!("openssl");
    use redis::Commands;
    let certs = Certs::new();
    let bin = rsentinel_bin();
    let client_for = |sentinels: &[Proc]| {
        let urls: Vec<String> = sentinels
            .iter()
            .map(|s| format!("rediss://127.0.0.1:{}/#insecure", s.port))
            .collect();
        redis::sentinel::SentinelClient::build(
            urls,
            "mymaster".to_string(),
            Some(redis::sentinel::SentinelNodeConnectionInfo {
                tls_mode: Some(redis::TlsMode::Insecure),
                redis_connection_info: None,
            }),
            redis::sentinel::SentinelServerType::Master,
        )
        .unwrap()
    };
    let (_nodes, sentinels, new_master) = fail_over_tls_cluster(
        &certs,
        &[bin.clone(), bin.clone(), bin],
        "tls-auth-clients optional\n",
        &["--tls-auth-clients", "optional"],
        |sentinels| {
            let mut con = client_for(sentinels).get_connection().unwrap();
            let _: () = con.set("phase", "before").unwrap();
        },
    );
    let mut con = client_for(&sentinels).get_connection().unwrap();
    let _: () = con.set("phase", "after").unwrap();
    assert_eq!(cli(&certs, new_master, &["GET", "phase"]), "after\n");
}

/// One `redis-benchmark --tls --csv` run: (requests per second, p99 latency in ms).
fn tls_benchmark(certs: &Certs, port: u16, extra: &[&str], cmd: &[&str]) -> (f64, f64) {
    let out = Command::new("redis-benchmark")
        .args(certs.cli_args())
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--csv"])
        .args(extra)
        .args(cmd)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-benchmark");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
    // "p99_latency_ms","max_latency_ms"
    let row = text
        .lines()
        .find(|l| !l.starts_with("\"test\""))
        .unwrap_or_else(|| panic!("no result from redis-benchmark: {text}"));
    let f: Vec<f64> = row
        .split("\",\"")
        .skip(1)
        .filter_map(|v| v.trim_matches('"').parse().ok())
        .collect();
    (f[0], f[5])
}

/// `openssl s_time` for 5 s: handshakes per second (connections / real seconds).
fn s_time(certs: &Certs, port: u16, mode: &str) -> f64 {
    let out = Command::new("openssl")
        .args(["s_time", "-connect", &format!("127.0.0.1:{port}"), mode])
        .args(["-time", "5", "-cert", &certs.path("client.crt")])
        .args([
            "-key",
            &certs.path("client.key"),
            "-CAfile",
            &certs.path("ca.crt"),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run openssl s_time");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // "<n> connections in <t> real seconds, ..."
    text.lines()
        .filter_map(|l| {
            let (n, rest) = l.split_once(" connections in ")?;
            let (t, _) = rest.split_once(" real seconds")?;
            Some(n.trim().parse::<f64>().ok()? / t.trim().parse::<f64>().ok()?.max(1.0))
        })
        .next_back()
        .unwrap_or(f64::NAN)
}

/// `redis-benchmark --tls` against both sentinels side by side: PING and SENTINEL
/// GET-MASTER-ADDR-BY-NAME on kept-alive connections (throughput, p99), and a new TLS
/// connection per request (`-k 0`) with and without `tls-session-caching`, and bare
/// handshakes per second with `openssl s_time` (full, and resumed sessions).
/// Run: `cargo test --release --test integration bench_tls -- --ignored --nocapture --test-threads 1`
/// Knobs: `BENCH_REQUESTS` (default 200000), `BENCH_CONNECT_REQUESTS` (5000).
#[test]
#[ignore]
fn bench_tls_redis_benchmark_side_by_side() {
    require!("redis-sentinel");
    require!("redis-benchmark");
    require!("openssl");
    let certs = Certs::new();
    let n = crate::bench::env_or("BENCH_REQUESTS", 200_000).to_string();
    let nc = crate::bench::env_or("BENCH_CONNECT_REQUESTS", 5_000).to_string();
    let impls = [
        ("redis-sentinel", PathBuf::from("redis-sentinel")),
        ("rsentinel", rsentinel_bin()),
    ];
    let queries: [(&str, &[&str]); 2] = [
        ("PING", &["PING"]),
        (
            "GET-MASTER-ADDR",
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
        ),
    ];
    let mut rows = Vec::new();
    for caching in ["yes", "no"] {
        let body =
            format!("tls-session-caching {caching}\nsentinel monitor mymaster 127.0.0.1 6 2\n");
        for (name, bin) in &impls {
            let s = tls_sentinel(bin, &certs, &body);
            if caching == "yes" {
                for (q, cmd) in queries {
                    let r = tls_benchmark(&certs, s.port, &["-n", &n, "-c", "50"], cmd);
                    rows.push((format!("{q} (50 clients, keep-alive)"), *name, r));
                }
            }
            let r = tls_benchmark(
                &certs,
                s.port,
                &["-n", &nc, "-c", "20", "-k", "0"],
                &["PING"],
            );
            rows.push((
                format!("PING, new TLS connection each (session caching {caching})"),
                *name,
                r,
            ));
            // Handshakes alone, one client: full ones, then resumed sessions.
            for mode in ["-new", "-reuse"] {
                let rate = s_time(&certs, s.port, mode);
                rows.push((
                    format!("openssl s_time {mode} (session caching {caching})"),
                    *name,
                    (rate, f64::NAN),
                ));
            }
        }
    }
    for (what, name, (rps, p99)) in &rows {
        if p99.is_nan() {
            println!("{what:>55} {name:>15}: {rps:>10.0} handshakes/s");
        } else {
            println!("{what:>55} {name:>15}: {rps:>10.0} req/s, p99 {p99:.3} ms");
        }
    }
}

/// Past `maxclients` a TLS client is turned away before its handshake, as Redis does
/// (its TLS connection cannot write the error yet): the client sees the connection
/// drop, no reply; counted in `rejected_connections`. Both binaries, same outcome.
#[test]
fn a_tls_client_past_maxclients_is_dropped_like_the_real_one() {
    require!("redis-sentinel");
    require!("redis-cli");
    require!("openssl");
    let certs = Certs::new();
    let mut outcomes = Vec::new();
    for bin in [rsentinel_bin(), PathBuf::from("redis-sentinel")] {
        let s = tls_sentinel(&bin, &certs, "maxclients 1\n");
        // One long-lived TLS client holds the only slot.
        let mut holder = Command::new("redis-cli")
            .args(certs.cli_args())
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &s.port.to_string(),
                "SUBSCRIBE",
                "x",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = [0u8; 9];
        std::io::Read::read_exact(holder.stdout.as_mut().unwrap(), &mut first).unwrap();
        assert_eq!(&first, b"subscribe", "{}", s.name);
        let (ok, out, err) = cli_with(&certs.cli_args(), s.port, &["PING"]);
        assert!(!ok || !out.contains("PONG"), "{}: {out}", s.name);
        assert!(!out.contains("max number of clients"), "{}: {out}", s.name);
        let _ = holder.kill();
        let _ = holder.wait();
        // Until the server has seen the holder go, a new client is refused as well.
        let mut info = String::new();
        wait_until("the slot freed", Duration::from_secs(5), || {
            info = cli(&certs, s.port, &["INFO", "stats"]);
            info.contains("rejected_connections:")
        });
        let rejected: u64 = value_after(&info, "rejected_connections:");
        assert!(rejected >= 1, "{}: {info}", s.name);
        outcomes.push((ok, out, err.lines().next().unwrap_or("").to_string()));
    }
    assert_eq!(outcomes[0], outcomes[1]);
}

fn value_after(info: &str, key: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {info}"))
}
