# Sourced by the bench scripts (from the repository's top directory).

# COMMAND DEBIAN_PACKAGE: install Debian's package when COMMAND is missing.
need() {
  command -v "$1" >/dev/null 2>&1 && return
  echo "bench: installing Debian's $2 (for $1)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
  command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is still missing after installing $2" >&2; exit 1; }
}

# What the timed parts (start.sh, pull.sh) share: Node would read the whole
# CA bundle at every start when NODE_EXTRA_CA_CERTS is set (this workplace
# sets it): ~85 ms more for every node process, TLS or not, which would
# inflate the floors as much as minipod and hide the ratios. Measured
# without it, as on a machine that does not set it; $ca_env keeps what the
# caller had, for the report. RUNS (default 20) runs of each command, in
# ROUNDS (default 5) rounds; the Node bundle is whatever package.json's bin
# names; checks that make has run and that we are root (why: $1).
timed_setup() {
  ca_env=${NODE_EXTRA_CA_CERTS:-}
  unset NODE_EXTRA_CA_CERTS
  RUNS=${RUNS:-20}
  ROUNDS=${ROUNDS:-5}
  [ "$RUNS" -ge "$ROUNDS" ] || ROUNDS=$RUNS
  per_round=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
  OUT=${OUT:-bench/results}
  deno=node_modules/deno/deno
  bundle=$(node -p 'require("./package.json").bin.minipod')
  [ "$(id -u)" = 0 ] || { echo "bench: run as root ($1)" >&2; exit 1; }
  for f in "$bundle" build/pause "$deno" images/busybox/rootfs/bin/true; do
    [ -e "$f" ] || { echo "bench: $f is missing: run make first" >&2; exit 1; }
  done
}

# DIR: removed, unless something is still mounted in it: rm -rf must never
# walk into a mount (a rootfs bind, a pod's root left by an interrupted run).
remove_unmounted() {
  if grep -qF " $1" /proc/self/mountinfo; then
    echo "bench: WARNING: $1 still has mounts: not removed" >&2
  else
    rm -rf "$1"
  fi
}

# Everything the benchmarks compare against, from Debian's packages.
need_all() {
  need hyperfine hyperfine
  need crun crun
  need runc runc
  need bwrap bubblewrap
  need unshare util-linux
  need nsenter util-linux
  need catatonit catatonit
  need docker-registry docker-registry
  need skopeo skopeo
  need umoci umoci
  # the busybox image is built from busybox-static by make
}

# PID: its resident memory in kB.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Seconds since the epoch, to the ns (coreutils' date: ~1 ms a call).
now() { date +%s.%N; }

# STATE_ROOT: wait (up to 20 s) for its shared supervisor to exit, as it does
# after its last pod is removed.
wait_supervisor_gone() {
  for _ in $(seq 2000); do pgrep -f -- "--root $1 supervise" >/dev/null || return 0; sleep 0.01; done
  echo "bench: WARNING: the supervisor of $1 is still running" >&2
}

# What `minipod ps -o json` says (with ps's options), one value a line. Needs $minipod.
ps_json() { $minipod ps "$@" -o json; }
pods_each() { # FIELD.PATH of each pod of the JSON on stdin
  node -e 'for (const p of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(process.argv[1].split(".").reduce((o, k) => o[k], p))' "$1"
}
pod_ids() { ps_json -a 2>/dev/null | pods_each id; }
pod_count() { ps_json "$@" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).length'; }
pause_pids() { ps_json | pods_each pause.pid; }

# The start of each script that runs pods: as root, a temporary state root
# ($state, under $tmp) and $minipod on it; every pod it holds is removed, and
# it too, however the script ends. OUT defaults to bench/results.
pods_setup() {
  [ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
  unset NODE_EXTRA_CA_CERTS # as in start.sh: not what a user's machine has
  OUT=${OUT:-bench/results}
  tmp=$(mktemp -d)
  state=$tmp/state
  minipod="node dist/minipod.cjs --root $state"
  trap 'remove_all_pods "$state"; rm -rf "$tmp"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# STATE_ROOT: remove every pod under it, and make sure its supervisor is gone
# (SIGTERM stops the pods it still has), before the caller removes the root.
remove_all_pods() {
  for id in $(pod_ids); do $minipod rm -f "$id" >/dev/null 2>&1 || true; done
  wait_supervisor_gone "$1" && return
  for pid in $(pgrep -f -- "--root $1 supervise"); do kill -TERM "$pid"; done
  wait_supervisor_gone "$1"
}
