#!/bin/sh
# The pull benchmark of issue #11, its three parts side by side in one run,
# on the images of bench/images.ts (`base`: ~PULL_MIB MiB in 5 gzip layers;
# `next`: base's first 4 layers and one of its own) in a docker-registry on
# 127.0.0.1:
# 1. pull + unpack of `base` into an empty store: `minipod --images DIR pull`
#    under Node (the bundle) and Deno, against `skopeo copy docker://... oci:`
#    then `umoci unpack` of the same image, and against the floor: `tar -xzf`
#    of its 5 layer blobs (copied beforehand), one after the other.
# 2. a pull of `next` into a store holding `base` (a copy of one pulled once):
#    its time; and each round, the same pull through a counting relay
#    (bench/pull-count.ts) that lists the blobs it fetched: one layer only.
# 3. start to exit of a one-container pod running /bin/true from `base`
#    (present: imagePullPolicy IfNotPresent) against the same pod from the
#    busybox directory image, both from the same store.
# hyperfine times every command; each pull starts from empty (or freshly
# copied) dirs, made by its --prepare with a `sync`, untimed. The commands
# take turns in ROUNDS rounds, as in bench/start.sh: this shared VM drifts.
# Needs root and `make` done first; installs what it compares against from
# Debian's packages when missing.
# usage: sh bench/pull.sh                     writes bench/results/pull.{md,json}
#        RUNS=3 OUT=DIR PULL_MIB=20 sh bench/pull.sh   a quick check
# RUNS (default 20) runs of each command, in ROUNDS (default 5) rounds;
# PULL_MIB (default 100) the images' size (built once, cached by size).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
. bench/images.sh
timed_setup 'unpacking and pods need it'
busybox=$(readlink -f images/busybox)
need_all

tmp=$(mktemp -d)
state=$tmp/state
minipod="node $bundle --root $state"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cleanup() {
  images_down
  remove_all_pods "$state"
  remove_unmounted "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench: pull: building (once) and serving the images" >&2
MIB=${PULL_MIB:-100} images_up "$tmp"
host=$(image_field host)
layers=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).base.layers.length' "$image_json")

# The floor's input: base's layer blobs, copied once (verified) to the
# filesystem everything else unpacks on.
mkdir -p "$tmp/blobs" "$tmp/p"
i=0
while [ "$i" -lt "$layers" ]; do
  digest=$(image_field "base.layers.$i.digest")
  cp "$(image_field "base.layers.$i.file")" "$tmp/blobs/$i.tar.gz"
  [ "sha256:$(sha256sum "$tmp/blobs/$i.tar.gz" | cut -d' ' -f1)" = "$digest" ] ||
    { echo "bench: layer $i's blob is not $digest" >&2; exit 1; }
  i=$((i + 1))
done

# A store holding base, pulled once: what part 2 starts from (copied), and
# part 3's store, with the busybox directory image beside it.
echo "bench: pull: the template store" >&2
node "$bundle" --images "$tmp/template" pull "$image_base" >/dev/null
cp -a "$tmp/template" "$tmp/pod-store"
ln -s "$busybox" "$tmp/pod-store/busybox"
pod() { # NAME IMAGE
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: Never
  containers:
    - name: c1
      image: $2
      imagePullPolicy: IfNotPresent
      command: ["/bin/true"]
YAML
}
pod bench-pull-layered "$image_base" >"$tmp/layered.yaml"
pod bench-pull-busybox busybox >"$tmp/busybox.yaml"

# Each benchmark is a line "ID<TAB>PREPARE<TAB>COMMAND" (PREPARE `-`: none;
# read would take two tabs for one).
tab=$(printf '\t')
p=$tmp/p
fresh() { printf "sh -c 'rm -rf %s && mkdir -p %s && sync'" "$1" "$1"; }
copied() { printf "sh -c 'rm -rf %s && cp -a %s %s && sync'" "$1" "$tmp/template" "$1"; }
floor=
i=0
while [ "$i" -lt "$layers" ]; do
  floor="$floor${floor:+ && }tar -xzf $tmp/blobs/$i.tar.gz -C $p/floor"
  i=$((i + 1))
done
cat >"$tmp/pull.tsv" <<EOF
node-base${tab}$(fresh "$p/node")${tab}node $bundle --images $p/node pull $image_base
deno-base${tab}$(fresh "$p/deno")${tab}$deno run -A cmd/minipod.ts --images $p/deno pull $image_base
skopeo-umoci${tab}sh -c 'rm -rf $p/oci $p/bundle && sync'${tab}sh -c 'skopeo copy --src-tls-verify=false docker://$image_base oci:$p/oci:base && umoci unpack --image $p/oci:base $p/bundle'
tar-floor${tab}$(fresh "$p/floor")${tab}sh -c '$floor'
node-next${tab}$(copied "$p/node-next")${tab}node $bundle --images $p/node-next pull $image_next
deno-next${tab}$(copied "$p/deno-next")${tab}$deno run -A cmd/minipod.ts --images $p/deno-next pull $image_next
EOF
cat >"$tmp/pods.tsv" <<EOF
pod-node-layered${tab}-${tab}$minipod --images $tmp/pod-store run $tmp/layered.yaml
pod-node-busybox${tab}-${tab}$minipod --images $tmp/pod-store run $tmp/busybox.yaml
pod-deno-layered${tab}-${tab}$deno run -A cmd/minipod.ts --root $state --images $tmp/pod-store run $tmp/layered.yaml
pod-deno-busybox${tab}-${tab}$deno run -A cmd/minipod.ts --root $state --images $tmp/pod-store run $tmp/busybox.yaml
EOF

bench() { # TSV JSON WARMUP: run hyperfine on the TSV's commands
  tsv=$1
  set -- hyperfine -N --warmup "$3" --runs "$per_round" --export-json "$2"
  while IFS="$tab" read -r id prepare cmd; do
    set -- "$@" -n "$id"
    [ "$prepare" = - ] || set -- "$@" --prepare "$prepare"
    set -- "$@" "$cmd"
  done <"$tsv"
  "$@" >&2
}
# COUNT_FILE STORE_SETUP RUNTIME... : one pull of next (or base with an
# empty store) through the counting relay, into $tmp/c.
count() {
  file=$1 setup=$2 ref=$3; shift 3
  rm -rf "$tmp/c"
  if [ "$setup" = copied ]; then cp -a "$tmp/template" "$tmp/c"; else mkdir -p "$tmp/c"; fi
  node --import tsx bench/pull-count.ts "http://$host" "$@" --images "$tmp/c" pull "{HOST}/${ref#*/}" >"$file"
}
count "$tmp/count-base-node.json" empty "$image_base" node "$bundle"
count "$tmp/count-base-deno.json" empty "$image_base" "$deno" run -A cmd/minipod.ts

round=1
while [ "$round" -le "$ROUNDS" ]; do
  echo "bench: pull: round $round of $ROUNDS" >&2
  bench "$tmp/pull.tsv" "$tmp/pull-$round.json" 1
  bench "$tmp/pods.tsv" "$tmp/pods-$round.json" 3
  count "$tmp/count-next-node-$round.json" copied "$image_next" node "$bundle"
  count "$tmp/count-next-deno-$round.json" copied "$image_next" "$deno" run -A cmd/minipod.ts
  round=$((round + 1))
done

# What each unpacked: minipod's snapshots (the template's) and the floor's
# tree must hold the same regular files (count and bytes; these layers
# whiteout nothing). The floor's dir is the last run's.
files() { find "$@" -type f -printf '%s\n' | awk '{ n++; s += $1 } END { printf "%d files, %d bytes", n, s }'; }
{
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  printf 'memory\t%s\n' "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  printf 'filesystem\t%s\n' "$(df -T "$tmp" | awk 'NR == 2 { print $2 }')"
  printf 'loadavg\t%s at the start, %s at the end\n' "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'node\t%s\n' "$(node --version)"
  printf 'deno\t%s\n' "$("$deno" --version | head -1)"
  printf 'skopeo\t%s\n' "$(skopeo --version)"
  printf 'umoci\t%s\n' "$(umoci --version)"
  printf 'tar\t%s\n' "$(tar --version | head -1)"
  printf 'gzip\t%s\n' "$(gzip --version | head -1)"
  printf 'docker-registry\t%s\n' "$(docker-registry --version)"
  printf 'hyperfine\t%s\n' "$(hyperfine --version)"
  printf 'unpacked.minipod\t%s\n' "$(files "$tmp"/template/snapshots/*/fs)"
  printf 'unpacked.tar\t%s\n' "$(files "$p/floor")"
  printf 'unpacked.umoci\t%s\n' "$(files "$p/bundle/rootfs")"
  printf 'runs\t%s\n' "$((per_round * ROUNDS))"
  printf 'rounds\t%s\n' "$ROUNDS"
  printf 'per_round\t%s\n' "$per_round"
  printf 'tmp\t%s\n' "$tmp"
  printf 'host\t%s\n' "$host"
  printf 'ca_env\t%s\n' "${ca_env:-unset}"
} >"$tmp/facts.tsv"

mkdir -p "$OUT"
node bench/pull-report.mjs "$tmp" "$OUT"
