# Sourced by the pull benchmark (from the repository's top directory): the
# big images (bench/images.ts) in a real registry on 127.0.0.1.
#   images_up DIR    build them if not cached (~6 s the first time), start the
#                    registry, push them; sets $image_base and $image_next
#                    (HOST/big:base, HOST/big:next), $image_json (DIR/images.json:
#                    the layout, each layer's digest, size and blob file)
#   images_down      stop the registry (its process and temp dir gone)
#   image_field PATH a field of $image_json, e.g. `image_field base.layers.0.file`
# MIB (default 100) sets the images' size, IMAGE_CACHE their cache (default
# bench/results/tmp/images). Put images_down in the EXIT trap.

images_up() {
  image_json=$1/images.json
  node --import tsx bench/images.ts serve ${MIB:+--mib "$MIB"} ${IMAGE_CACHE:+--cache "$IMAGE_CACHE"} >"$image_json" 2>"$1/images.err" &
  images_pid=$!
  for _ in $(seq 1200); do
    [ -s "$image_json" ] && break
    kill -0 "$images_pid" 2>/dev/null || { echo "bench: bench/images.ts serve failed:" >&2; cat "$1/images.err" >&2; return 1; }
    sleep 0.1
  done
  [ -s "$image_json" ] || { echo "bench: the image registry was not up after 120 s" >&2; return 1; }
  image_base=$(image_field base.reference)
  image_next=$(image_field next.reference)
}

images_down() {
  [ -n "${images_pid:-}" ] || return 0
  kill -TERM "$images_pid" 2>/dev/null || true
  wait "$images_pid" 2>/dev/null || true
  images_pid=
}

image_field() {
  node -e 'console.log(process.argv[1].split(".").reduce((o, k) => o[k], JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"))))' "$1" "$image_json"
}
