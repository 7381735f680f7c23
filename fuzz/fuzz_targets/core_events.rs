//! The core fed arbitrary event sequences: the driver of tests/robust_core.rs (ticks
//! with clock jumps, connects and disconnects, replies of every shape, mutated INFO and
//! hello payloads, SENTINEL commands with odd arguments), with every choice read from the
//! fuzz input instead of a seeded RNG. Oracle: no panic, and the persisted state renders
//! to a config that loads back unchanged (check_persisted).
#![no_main]
#![allow(dead_code)]
use libfuzzer_sys::fuzz_target;
use rand::RngCore;
use std::sync::OnceLock;

mod golden {
    pub fn path(f: &str) -> String {
        format!("{}/../tests/golden/{f}", env!("CARGO_MANIFEST_DIR"))
    }
    pub fn bytes(f: &str) -> Vec<u8> {
        std::fs::read(path(f)).unwrap()
    }
    pub fn text(f: &str) -> String {
        String::from_utf8_lossy(&bytes(f)).into_owned()
    }
}

/// An RNG that reads (a copy of) the fuzz input, zeros once it is used up.
struct ByteRng {
    data: Vec<u8>,
    pos: usize,
}

impl ByteRng {
    fn exhausted(&self) -> bool {
        self.pos >= self.data.len()
    }
}

impl RngCore for ByteRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for d in dest.iter_mut() {
            *d = self.data.get(self.pos).copied().unwrap_or(0);
            self.pos += 1;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

#[path = "../../tests/robust_core/driver.rs"]
mod driver;
use driver::*;

/// The RNG the shared driver draws from here.
type DriverRng = ByteRng;

struct Inputs {
    infos: Vec<String>,
    hellos: Vec<String>,
    cmds: Vec<Vec<String>>,
    dir: std::path::PathBuf,
}

fn inputs() -> &'static Inputs {
    static I: OnceLock<Inputs> = OnceLock::new();
    I.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rsentinel-fuzz-core-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Inputs {
            infos: golden_infos(),
            hellos: hello_payloads(),
            cmds: golden_commands(),
            dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let inp = inputs();
    let mut rng = ByteRng {
        data: data.to_vec(),
        pos: 0,
    };
    let mut w = World::new();
    let mut steps = 0;
    while !rng.exhausted() && steps < 4000 {
        w.step(&mut rng, &inp.infos, &inp.hellos, &inp.cmds);
        steps += 1;
    }
    check_persisted(&w.core, &inp.dir, w.names_allowed);
});
