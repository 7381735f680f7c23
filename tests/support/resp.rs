//! The one RESP test client: request encoding, reply framing (RESP2 and RESP3), a
//! RESP2 value reader for comparisons with golden captures, and a raw TCP connection
//! that reads whole frames. The crate's own codec is what is under test, so the tests
//! read replies with this independent reader instead.

use rsentinel::resp::Reply;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A request as a RESP2 multibulk, byte by byte as redis-cli writes it.
pub fn encode<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        v.extend(format!("${}\r\n", a.len()).into_bytes());
        v.extend(a);
        v.extend(b"\r\n");
    }
    v
}

/// RESP2 multibulk bytes of a command, as the shell writes them (through the crate's
/// own encoder, which is what the wire comparisons check).
pub fn wire(args: &[String]) -> Vec<u8> {
    let r = Reply::Array(args.iter().map(Reply::bulk).collect());
    r.to_bytes(2).to_vec()
}

/// A reply in RESP2 bytes.
pub fn resp2(r: &Reply) -> Vec<u8> {
    r.to_bytes(2).to_vec()
}

/// Bytes with CR LF made visible, for assertion messages.
pub fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\\r\\n ")
}

/// The header line at `pos`: its type byte, its text, and where the next line starts.
fn header(b: &[u8], pos: usize) -> Option<(u8, &str, usize)> {
    let nl = pos + b.get(pos..)?.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&b[pos + 1..nl]).ok()?;
    Some((b[pos], line, nl + 2))
}

/// Length of the first complete RESP2/RESP3 frame in `b`, if it is complete.
pub fn frame_len(b: &[u8]) -> Option<usize> {
    let (t, line, after) = header(b, 0)?;
    match t {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' => Some(after),
        b'$' | b'=' => {
            let n: i64 = line.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (b.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n: i64 = line.parse().ok()?;
            let n = if t == b'%' { n * 2 } else { n };
            let mut pos = after;
            for _ in 0..n.max(0) {
                pos += frame_len(&b[pos..])?;
            }
            Some(pos)
        }
        _ => None,
    }
}

/// A parsed RESP2 value, enough for the replies under test.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<String>),
    Array(Option<Vec<V>>),
}

impl V {
    /// Every non-null bulk string inside, depth first.
    pub fn bulks(&self) -> Vec<String> {
        match self {
            V::Bulk(Some(s)) => vec![s.clone()],
            V::Array(Some(items)) => items.iter().flat_map(V::bulks).collect(),
            _ => Vec::new(),
        }
    }
}

/// Exactly one RESP2 value.
pub fn parse(b: &[u8]) -> V {
    let (v, used) = parse_at(b, 0);
    assert_eq!(used, b.len(), "trailing bytes in {}", show(b));
    v
}

/// Every RESP2 value of a capture, in order.
pub fn parse_all(b: &[u8]) -> Vec<V> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let (v, next) = parse_at(b, pos);
        out.push(v);
        pos = next;
    }
    out
}

fn parse_at(b: &[u8], pos: usize) -> (V, usize) {
    let (t, line, next) = header(b, pos).expect("a complete RESP2 header");
    let line = line.to_string();
    match t {
        b'+' => (V::Status(line), next),
        b'-' => (V::Error(line), next),
        b':' => (V::Int(line.parse().unwrap()), next),
        b'$' => {
            let n: i64 = line.parse().unwrap();
            if n < 0 {
                return (V::Bulk(None), next);
            }
            let s = String::from_utf8_lossy(&b[next..next + n as usize]).into_owned();
            (V::Bulk(Some(s)), next + n as usize + 2)
        }
        b'*' => {
            let n: i64 = line.parse().unwrap();
            if n < 0 {
                return (V::Array(None), next);
            }
            let mut items = Vec::new();
            let mut p = next;
            for _ in 0..n {
                let (v, q) = parse_at(b, p);
                items.push(v);
                p = q;
            }
            (V::Array(Some(items)), p)
        }
        t => panic!("unexpected RESP type {}", t as char),
    }
}

/// A flat RESP2 description as (field, value) pairs.
pub fn pairs(v: &V) -> Vec<(String, String)> {
    let V::Array(Some(items)) = v else {
        panic!("not an array: {v:?}")
    };
    items
        .chunks(2)
        .map(|kv| match kv {
            [V::Bulk(Some(k)), V::Bulk(Some(v))] => (k.clone(), v.clone()),
            other => panic!("not a bulk pair: {other:?}"),
        })
        .collect()
}

/// A raw client connection that reads whole reply frames.
pub struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        Conn {
            s: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    pub async fn send(&mut self, raw: &[u8]) {
        self.s.write_all(raw).await.unwrap();
    }

    /// Write without expecting the server to take it all (it may close first).
    pub async fn write(&mut self, raw: &[u8]) -> std::io::Result<()> {
        self.s.write_all(raw).await
    }

    /// Bytes received but not yet returned as a frame.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Next complete frame, or None on EOF/timeout.
    pub async fn frame(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(n) = frame_len(&self.buf) {
                return Some(self.buf.drain(..n).collect());
            }
            let mut tmp = vec![0u8; 65536];
            let r = tokio::time::timeout(Duration::from_secs(2), self.s.read(&mut tmp)).await;
            match r {
                Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&tmp[..n]),
                _ => return None,
            }
        }
    }

    pub async fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        self.send(&encode(args)).await;
        self.frame().await.expect("a reply")
    }

    pub async fn is_closed(&mut self) -> bool {
        let mut tmp = [0u8; 64];
        matches!(
            tokio::time::timeout(Duration::from_secs(2), self.s.read(&mut tmp)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}
