#!/usr/bin/env bash
# The README's "make run" figure: seconds from `git clone` to the first answer of /health under `make run`,
# in a fresh clone (no .venv), on free ports. Run it several times and take the median.
#   bench/fresh-clone-run.sh [REPOSITORY [BRANCH]]     (default: this checkout and its branch)
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
branch=${2:-$(git -C "$src" rev-parse --abbrev-ref HEAD)}
dir=$(mktemp -d)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port); ct_port=$(free_port); metrics_port=$(free_port)
start=$(date +%s.%N)
git clone --quiet --branch "$branch" "$src" "$dir/repo"
cd "$dir/repo"
PORT=$port CT_EMULATOR_PORT=$ct_port METRICS_PORT=$metrics_port setsid make run >"$dir/make-run.log" 2>&1 &
make_pid=$!
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
  if ! kill -0 "$make_pid" 2>/dev/null; then cat "$dir/make-run.log"; exit 1; fi
  sleep 0.2
done
end=$(date +%s.%N)
kill -TERM -- "-$make_pid" 2>/dev/null || true   # setsid: make and the host are one process group
wait "$make_pid" 2>/dev/null || true
python3 -c "print(f'serving after {$end - $start:.1f} s')"
rm -rf "$dir"
