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
