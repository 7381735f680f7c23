#!/usr/bin/env bash
# Short coverage-guided fuzz run: every target for SECS seconds (default 30), one after
# the other, on corpora seeded from tests/golden. Needs the nightly toolchain and
# `cargo install cargo-fuzz`. A crash stops the run and leaves its input in
# fuzz/artifacts/<target>/ (replay: cargo +nightly fuzz run <target> <file>).
#   fuzz/run.sh            # ~30 s a target
#   fuzz/run.sh 600 hello  # one target for 10 minutes
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-30}
shift || true
python3 seed.py >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
for t in "${targets[@]}"; do
  echo "== $t ($SECS s)"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=4096 -print_final_stats=1 2>&1 |
    grep -E "^(stat::|Done|INFO: seed|==[0-9]+==|SUMMARY)|panicked|Test unit written" || true
  [ -z "$(ls -A "artifacts/$t" 2>/dev/null)" ] || { echo "findings in fuzz/artifacts/$t"; exit 1; }
done
