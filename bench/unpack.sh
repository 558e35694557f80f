#!/bin/sh
# Layer extraction throughput (issue #11): one layer of ~100 MiB of real
# files (SRC, paths under /: Python's library, Perl's, git's binaries with
# their hard links, npm's node_modules), as an uncompressed tar, gzip -6
# and zstd -3, unpacked by minipod (lib/image/unpack.ts) under Node and
# Deno against GNU tar (`tar -xf`, `tar -xzf`, `zstd -dc | tar -x`: the
# floor), with tar-stream's parsing alone (no files written: the parser's
# share) and npm's own node-tar (`tar.x`, plain and gzip) where npm is
# installed. RUNS (default 5) rounds, every command once a round into a
# fresh directory, after a sync. MiB/s are of the uncompressed tar; minipod
# is timed inside its process (as a pull runs it), the commands from outside.
# DIR (default: a temporary directory, on /tmp's filesystem) is where the
# layer is unpacked: on a disk the page cache and the journal weigh in as
# they do for a pull; on a tmpfs (DIR=/dev/shm) what is left is CPU.
# Needs root (ownership, as a real unpack), zstd, and node_modules.
# usage: sh bench/unpack.sh          writes bench/results/unpack-FS.{md,json} (FS: ext4, tmpfs...)
#        OUT=DIR RUNS=2 DIR=/dev/shm sh bench/unpack.sh
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
[ "$(id -u)" = 0 ] || { echo "bench: run as root (a layer's owners are kept)" >&2; exit 1; }
need zstd zstd
RUNS=${RUNS:-5}
OUT=${OUT:-bench/results}
SRC=${SRC:-usr/lib/python3.11 usr/share/perl usr/lib/git-core usr/lib/node_modules/npm}
deno=node_modules/deno/deno
mkdir -p "$OUT"
tmp=$(mktemp -d)
work=$(mktemp -d -p "${DIR:-$tmp}")
trap 'rm -rf "$work" "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

present=
for p in $SRC; do [ -e "/$p" ] && present="$present $p"; done
[ -n "$present" ] || { echo "bench: none of SRC ($SRC) exists" >&2; exit 1; }
# shellcheck disable=SC2086 # one word per path
tar -C / --sort=name -cf "$tmp/layer.tar" $present
gzip -6 -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
zstd -q -3 -c "$tmp/layer.tar" >"$tmp/layer.tar.zst"
bytes=$(stat -c %s "$tmp/layer.tar")
entries=$(tar -tf "$tmp/layer.tar" | wc -l)
echo "bench: layer of $((bytes / 1048576)) MiB, $entries entries, from$present" >&2

node_tar=/usr/lib/node_modules/npm/node_modules/tar
cases="tar:plain tar:gzip tar:zstd minipod-node:plain minipod-node:gzip minipod-node:zstd minipod-deno:plain minipod-deno:gzip minipod-deno:zstd tar-stream-node:plain tar-stream-node:gzip tar-stream-node:zstd"
[ -d "$node_tar" ] && cases="$cases node-tar:plain node-tar:gzip"

file_of() { case $1 in plain) echo "$tmp/layer.tar" ;; gzip) echo "$tmp/layer.tar.gz" ;; zstd) echo "$tmp/layer.tar.zst" ;; esac; }

# CASE DEST: milliseconds it took.
run_one() {
  tool=${1%%:*} compression=${1#*:} dest=$2 file=$(file_of "${1#*:}")
  case $tool in
    tar)
      start=$(now)
      case $compression in
        plain) tar -C "$dest" -xf "$file" ;;
        gzip) tar -C "$dest" -xzf "$file" ;;
        zstd) zstd -dc "$file" | tar -C "$dest" -xf - ;;
      esac
      end=$(now)
      echo "$start $end" | awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' ;;
    minipod-node) node --import tsx bench/unpack-layer.ts minipod "$file" "$dest" | sed 's/.*"ms":\([0-9.]*\).*/\1/' ;;
    minipod-deno) $deno run -A bench/unpack-layer.ts minipod "$file" "$dest" | sed 's/.*"ms":\([0-9.]*\).*/\1/' ;;
    tar-stream-node) node --import tsx bench/unpack-layer.ts tar-stream "$file" "$dest" | sed 's/.*"ms":\([0-9.]*\).*/\1/' ;;
    node-tar) node --import tsx bench/unpack-layer.ts node-tar "$file" "$dest" | sed 's/.*"ms":\([0-9.]*\).*/\1/' ;;
  esac
}

: >"$tmp/times"
for round in $(seq "$RUNS"); do
  echo "bench: round $round of $RUNS" >&2
  for c in $cases; do
    dest=$work/dest
    rm -rf "$dest" && mkdir "$dest" && sync
    echo "$c $(run_one "$c" "$dest")" >>"$tmp/times"
  done
done
rm -rf "$work/dest"
fs=$(df --output=fstype "$work" | tail -1)

node - "$tmp/times" "$bytes" "$entries" "$OUT" "$present" "$fs" <<'JS'
const fs = require('node:fs');
const [times, bytes, entries, out, src, fsType] = process.argv.slice(2);
const runs = {};
for (const line of fs.readFileSync(times, 'utf8').trim().split('\n')) {
  const [c, ms] = line.split(' ');
  (runs[c] ??= []).push(Number(ms));
}
const mib = Number(bytes) / 1048576;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const rows = Object.entries(runs).map(([c, ms]) => {
  const [tool, compression] = c.split(':');
  return { tool, compression, ms: median(ms), mibs: mib / (median(ms) / 1000), min: mib / (Math.max(...ms) / 1000), max: mib / (Math.min(...ms) / 1000), runs: ms };
});
const floor = (compression) => rows.find((r) => r.tool === 'tar' && r.compression === compression).ms;
const lines = [
  `Layer: ${mib.toFixed(1)} MiB uncompressed, ${entries} entries (${src.trim()}), unpacked on ${fsType}; ${rows[0].runs.length} runs each; median (min-max).`,
  '',
  '| extractor | compression | time (ms) | MiB/s | vs GNU tar |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.tool} | ${r.compression} | ${r.ms.toFixed(0)} | ${r.mibs.toFixed(0)} (${r.min.toFixed(0)}-${r.max.toFixed(0)}) | ${(r.ms / floor(r.compression)).toFixed(2)}x |`),
];
fs.writeFileSync(`${out}/unpack-${fsType}.md`, `${lines.join('\n')}\n`);
fs.writeFileSync(`${out}/unpack-${fsType}.json`, `${JSON.stringify({ bytes: Number(bytes), entries: Number(entries), src: src.trim().split(' '), fs: fsType, rows }, null, 2)}\n`);
console.log(lines.join('\n'));
JS
