# make        set everything up (idempotent): npm packages, the bundled CLI,
#             the pause and exec-helper binaries, the default busybox image
# make test   the whole suite, under Node and Deno (integration tests need root)
# make bench  the benchmarks (issues #2, #4, #5, #7, #11) against crun, runc, bubblewrap,
#             unshare, skopeo + umoci and tar (installed from Debian when missing), written to
#             bench/results/ and BENCHMARKS.md; RUNS=N repetitions (default 20)

CC ?= cc
CFLAGS_STATIC := -static -Os -s -Wall -Wextra -Werror
VERSION := $(shell node -p 'require("./package.json").version' 2>/dev/null || echo dev)
SOURCES := $(shell find lib cmd -name '*.ts')

all: node_modules/.package-lock.json node_modules/.bin/minipod build/pause build/minipod-init build/syscall-probe images/busybox/config.json

# npm here may not run install scripts: deno's only copies its binary into
# place, so do that ourselves.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	node -e 'require("deno/install_api.cjs").runInstall()'
	@touch $@

dist/minipod.cjs: build.mjs $(SOURCES) node_modules/.package-lock.json
	node build.mjs
	@chmod +x $@

# npx looks in node_modules/.bin first: this makes `npx minipod` the bundle.
node_modules/.bin/minipod: dist/minipod.cjs
	ln -sf ../../dist/minipod.cjs $@

build/pause: rootfs/pause/pause.c
	@mkdir -p build
	$(CC) $(CFLAGS_STATIC) -DVERSION='"$(VERSION)"' -o $@ $<

build/minipod-init: rootfs/init/init.c
	@mkdir -p build
	$(CC) $(CFLAGS_STATIC) -o $@ $<

# A test tool: the calls the default seccomp filter refuses, tried from inside a container.
build/syscall-probe: rootfs/probe/syscalls.c
	@mkdir -p build
	$(CC) $(CFLAGS_STATIC) -o $@ $<

images/busybox/config.json: rootfs/images/busybox.sh
	sh rootfs/images/busybox.sh images/busybox

test: all
	sh test/run-all.sh

bench: all
	sh bench/run.sh

check: all
	npx tsc -p .

clean:
	rm -rf dist build images

.PHONY: all test bench check clean
