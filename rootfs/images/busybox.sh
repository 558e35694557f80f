#!/bin/sh
# Build the default `busybox` image: a root filesystem holding Debian's static
# busybox and a link for each applet, plus the few files every image needs.
# usage: busybox.sh IMAGE_DIR   (writes IMAGE_DIR/rootfs atomically)
set -eu
dest=${1:?usage: busybox.sh IMAGE_DIR}
bb=/bin/busybox

is_static() { [ -x "$1" ] && ! LC_ALL=C ldd "$1" >/dev/null 2>&1; }

if ! is_static "$bb"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "busybox.sh: installing Debian's busybox-static" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null; }
  fi
  if ! is_static "$bb"; then
    echo "busybox.sh: a static $bb is needed to build the busybox image: install Debian's busybox-static (apt-get install busybox-static)" >&2
    exit 1
  fi
fi

mkdir -p "$dest"
# The part of an OCI image config that minipod reads: what runs when a
# container sets neither command nor args, and the default environment.
cat >"$dest/config.json" <<'CONFIG'
{"config": {"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}}
CONFIG

[ -x "$dest/rootfs/bin/busybox" ] && cmp -s "$bb" "$dest/rootfs/bin/busybox" && exit 0

tmp=$(mktemp -d "$dest/.rootfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cd "$tmp"
mkdir -p bin sbin usr/bin usr/sbin etc root home dev proc sys tmp var/www run
chmod 1777 tmp
chmod 700 root
cp "$bb" bin/busybox
for applet in $(bin/busybox --list-full); do
  [ -e "$applet" ] || ln -s /bin/busybox "$applet"
done
cat >etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat >etc/group <<'GROUP'
root:x:0:
tty:x:5:
nogroup:x:65534:
GROUP
cd - >/dev/null
rm -rf "$dest/rootfs"
mv "$tmp" "$dest/rootfs"
trap - EXIT
echo "busybox.sh: built $dest/rootfs" >&2
