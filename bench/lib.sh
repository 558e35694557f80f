# Sourced by the bench scripts (from the repository's top directory).

# COMMAND DEBIAN_PACKAGE: install Debian's package when COMMAND is missing.
need() {
  command -v "$1" >/dev/null 2>&1 && return
  echo "bench: installing Debian's $2 (for $1)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
  command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is still missing after installing $2" >&2; exit 1; }
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

# `minipod ps` as JSON, by way of a file: piped, its output is cut at 64 KiB
# (the CLI exits before a pipe has taken it all); written to a file, it is
# whole. Needs $minipod and $tmp.
ps_json() { $minipod ps "$@" -o json >"$tmp/ps.json" && cat "$tmp/ps.json"; }
pod_ids() { ps_json -a >/dev/null 2>&1 && node -e 'for (const p of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) console.log(p.id)' "$tmp/ps.json"; }
pod_count() { ps_json "$@" >/dev/null && node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).length' "$tmp/ps.json"; }
pause_pids() { ps_json >/dev/null && node -e 'for (const p of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) console.log(p.pause.pid)' "$tmp/ps.json"; }

# STATE_ROOT: remove every pod under it, and make sure its supervisor is gone
# (SIGTERM stops the pods it still has), before the caller removes the root.
remove_all_pods() {
  for id in $(pod_ids); do $minipod rm -f "$id" >/dev/null 2>&1 || true; done
  wait_supervisor_gone "$1" && return
  for pid in $(pgrep -f -- "--root $1 supervise"); do kill -TERM "$pid"; done
  wait_supervisor_gone "$1"
}
