#!/bin/sh
# The start-up benchmark of issues #2 and #7: minipod (Node and Deno) against
# crun, runc, bubblewrap and util-linux's unshare, on the same busybox rootfs,
# in one run; plus the pause's size and resident memory against catatonit's;
# plus what cgroups cost (issue #4): a pod of one and a pod of ten limited
# containers, each with and without cgroups. Needs root and `make` done first;
# installs what it compares against from Debian's packages when missing.
# usage: sh bench/start.sh          writes bench/results/start.{md,json}
#        RUNS=3 OUT=DIR sh bench/start.sh   a quick check that leaves the
#                                     committed figures alone
# RUNS (default 20) runs of each command, in ROUNDS (default 5) rounds.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
timed_setup 'pods and crun need it'
rootfs=$PWD/images/busybox/rootfs
need_all

# What we start must not outlive us, nor leave mounts or cgroups behind:
# remember how things were, and compare at the end.
tmp=$(mktemp -d)
load_before=$(cut -d' ' -f1-3 /proc/loadavg) # others' work on 2 CPUs shows in the figures
mounts_before=$(wc -l </proc/self/mountinfo)
cgroups_before=$(find /sys/fs/cgroup -name '*crun*' -o -name 'bench-*' 2>/dev/null | wc -l)
ps -e -o pid=,comm= | sort >"$tmp/ps.before"
running= # the background process of ours alive now, if any
cleanup() {
  # SIGTERM: a minipod stops its pod (pause included) before exiting.
  [ -z "$running" ] || { kill -TERM "$running" 2>/dev/null; wait "$running" || true; }
  ps -e -o pid=,comm= | sort >"$tmp/ps.after"
  # Only processes of the kinds we start: someone else may be running tests.
  new=$(comm -13 "$tmp/ps.before" "$tmp/ps.after" |
    grep -E ' (pause|catatonit|crun|runc|bwrap|unshare|sleep|true|minipod-init|hyperfine)$' || true)
  [ -z "$new" ] || printf 'bench: WARNING: new processes of the kinds the bench starts (ours, or started by someone else meanwhile):\n%s\n' "$new" >&2
  [ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ] ||
    echo "bench: WARNING: /proc/self/mountinfo has $(wc -l </proc/self/mountinfo) lines, $mounts_before before" >&2
  [ "$(find /sys/fs/cgroup -name '*crun*' -o -name 'bench-*' 2>/dev/null | wc -l)" = "$cgroups_before" ] ||
    echo "bench: WARNING: crun or runc left cgroups behind under /sys/fs/cgroup" >&2
  remove_unmounted "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The crun and runc bundles: each one's `spec` default, minus
# linux.resources (crun cannot load its eBPF device filter here), running
# /bin/true from the same read-only rootfs.
mkdir -p "$tmp/bundle" "$tmp/runc-bundle" "$tmp/crun" "$tmp/runc" "$tmp/state"
(cd "$tmp/bundle" && crun spec)
(cd "$tmp/runc-bundle" && runc spec)
for config in "$tmp/bundle/config.json" "$tmp/runc-bundle/config.json"; do node -e '
  const fs = require("fs"), [file, rootfs] = process.argv.slice(1);
  const c = JSON.parse(fs.readFileSync(file, "utf8"));
  delete c.linux.resources;
  c.process.terminal = false;
  c.process.args = ["/bin/true"];
  c.root = { path: rootfs, readonly: true };
  fs.writeFileSync(file, JSON.stringify(c, null, 2));
' "$config" "$rootfs"; done

# Each benchmark is a line "ID<TAB>COMMAND": the same file drives hyperfine
# and tells the report the exact command. -N: no shell in between.
minipod="node $bundle --root $tmp/state run"
minipod_deno="$deno run -A cmd/minipod.ts --root $tmp/state run"
tab=$(printf '\t')
cat >"$tmp/host.tsv" <<EOF
node-floor${tab}node -e 0
deno-floor${tab}$deno eval 0
node-1${tab}$minipod bench/pods/true-1.yaml
node-10${tab}$minipod bench/pods/true-10.yaml
deno-1${tab}$minipod_deno bench/pods/true-1.yaml
deno-10${tab}$minipod_deno bench/pods/true-10.yaml
node-limits-1${tab}$minipod bench/pods/limits-1.yaml
node-limits-1-nocgroups${tab}$minipod --cgroup-manager disabled bench/pods/limits-1.yaml
node-limits-10${tab}$minipod bench/pods/limits-10.yaml
node-limits-10-nocgroups${tab}$minipod --cgroup-manager disabled bench/pods/limits-10.yaml
bwrap${tab}bwrap --unshare-all --ro-bind $rootfs / --proc /proc --dev /dev /bin/true
unshare${tab}unshare -fmnipu --mount-proc /bin/true
EOF
# crun run and runc run delete their container on exit, so one id per bench
# run is enough.
cat >"$tmp/private.tsv" <<EOF
crun${tab}crun --root $tmp/crun --cgroup-manager=disabled run --bundle $tmp/bundle bench-$$
runc${tab}runc --root $tmp/runc run --bundle $tmp/runc-bundle bench-$$
EOF

bench() { # TSV JSON [WRAPPER...]: run hyperfine on the TSV's commands
  tsv=$1 json=$2; shift 2
  set -- "$@" hyperfine -N --warmup 3 --runs "$per_round" --export-json "$json"
  while IFS="$tab" read -r id cmd; do set -- "$@" -n "$id" "$cmd"; done <"$tsv"
  "$@"
}
# This machine's speed drifts over tens of seconds (a shared VM: node -e 0
# takes 85 ms in one spell, 130 ms in the next). Rounds interleave the
# commands so that each sees the same mix of spells and the ratios hold.
round=1
while [ "$round" -le "$ROUNDS" ]; do
  bench "$tmp/host.tsv" "$tmp/host-$round.json"
  # crun refuses this machine's hybrid cgroup layout. In a private mount
  # namespace, cgroup2 mounted over /sys/fs/cgroup hides the v1 hierarchies
  # from it; --cgroup-manager=disabled creates no cgroup, and the mount goes
  # away with the namespace. runc has no way to run without a cgroup: there
  # it makes one cgroup2 directory per container (and attaches its eBPF
  # device filter), the least it does; on the v1 hierarchies it would make
  # one in each (~8 ms more here).
  bench "$tmp/private.tsv" "$tmp/private-$round.json" unshare -m --propagation private \
    sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh
  round=$((round + 1))
done

# Resident memory. A pod whose container sleeps: its pause is the minipod
# process's child named `pause`. Read both once the pod is up.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
pause_of() { # SUPERVISOR_PID: print its pause child's pid, waiting up to 5 s
  for _ in $(seq 50); do
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
      [ "$(cat "/proc/$child/comm" 2>/dev/null)" = pause ] && { echo "$child"; return; }
    done
    sleep 0.1
  done
  echo "bench: no pause process under minipod pid $1" >&2
  return 1
}
measure_pod() { # NAME COMMAND...: append NAME.pause and NAME.supervisor (kB)
  name=$1; shift
  "$@" bench/pods/sleep.yaml >/dev/null &
  sup=$!
  running=$sup
  pause=$(pause_of "$sup")
  sleep 1 # the container is running and the supervisor idle
  printf '%s.pause\t%s\n%s.supervisor\t%s\n' "$name" "$(rss "$pause")" "$name" "$(rss "$sup")" >>"$tmp/facts.tsv"
  wait "$sup"
  running=
}
measure_pod node $minipod
measure_pod deno $minipod_deno
catatonit -P &
running=$!
sleep 0.5
printf 'catatonit\t%s\n' "$(rss "$running")" >>"$tmp/facts.tsv"
kill -TERM "$running"
wait "$running" || true
running=

# The machine and the versions, for the report.
{
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  printf 'memory\t%s\n' "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  printf 'loadavg\t%s at the start, %s at the end\n' "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'node\t%s\n' "$(node --version)"
  printf 'deno\t%s\n' "$("$deno" --version | head -1)"
  printf 'crun\t%s\n' "$(crun --version | head -1)"
  printf 'runc\t%s\n' "$(runc --version | head -1)"
  printf 'bubblewrap\t%s\n' "$(bwrap --version)"
  printf 'util-linux\t%s\n' "$(unshare --version)"
  printf 'hyperfine\t%s\n' "$(hyperfine --version)"
  printf 'busybox\t%s\n' "$("$rootfs/bin/busybox" | head -1)"
  printf 'catatonit.version\t%s\n' "$(catatonit --version)"
  printf 'pause.size\t%s\n' "$(wc -c <build/pause)"
  printf 'catatonit.size\t%s\n' "$(wc -c <"$(command -v catatonit)")"
  printf 'catatonit.path\t%s\n' "$(command -v catatonit)"
  printf 'runs\t%s\n' "$((per_round * ROUNDS))"
  printf 'rounds\t%s\n' "$ROUNDS"
  printf 'per_round\t%s\n' "$per_round"
  printf 'tmp\t%s\n' "$tmp"
  printf 'ca_env\t%s\n' "${ca_env:-unset}"
} >>"$tmp/facts.tsv"

mkdir -p "$OUT"
node bench/report.mjs "$tmp" "$OUT"
