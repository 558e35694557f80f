/*
 * minipod-init: the last step between the runtime and a container's program.
 *
 * The runtime (Node or Deno) prepares namespaces and the root filesystem on
 * its own thread and must be able to undo every step it takes there. What
 * cannot be undone, or must happen inside the new PID namespace, happens here,
 * in the child, just before exec:
 *   - tie the child's life to the runtime (PR_SET_PDEATHSIG), so that a
 *     runtime killed with SIGKILL does not leave a pod behind;
 *   - replace the /proc the runtime bound in for this exec with a fresh procfs,
 *     which only a process inside the container's PID namespace can mount;
 *   - mark every inherited fd >= 3 close-on-exec, so no host fd reaches the app;
 *   - chdir to the working directory and exec the program, resolving it
 *     through the container's PATH.
 * The runtime execs this binary through /proc/<runtime>/fd/<n>, a descriptor
 * opened before pivot_root, so the file is never reachable from the container.
 *
 * usage: minipod-init [-a ARGV0] [-d] [-p] [-s STATUS] [-w DIR] -- PROGRAM [ARG...]
 * Failures are written to STATUS (a pipe the runtime reads after the child
 * exits) as one line, and the exit code follows the shells' convention:
 * 127 not found, 126 not executable, 125 for any other setup failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

extern char **environ;
static int status_fd = 2;

static void fail(int code, const char *fmt, ...) {
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  if (n > (int)sizeof msg - 2)
    n = sizeof msg - 2;
  msg[n++] = '\n';
  if (write(status_fd, msg, n) < 0 && status_fd != 2)
    (void)!write(2, msg, n);
  _exit(code);
}

int main(int argc, char **argv) {
  int deathsig = 0, newproc = 0;
  const char *status = NULL, *workdir = NULL, *argv0 = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "+a:dps:w:")) != -1) {
    switch (opt) {
    case 'a': argv0 = optarg; break;
    case 'd': deathsig = 1; break;
    case 'p': newproc = 1; break;
    case 's': status = optarg; break;
    case 'w': workdir = optarg; break;
    default: fail(125, "minipod-init: usage: minipod-init [-a ARGV0] [-d] [-p] [-s STATUS] [-w DIR] -- PROGRAM [ARG...]");
    }
  }
  if (optind >= argc)
    fail(125, "minipod-init: no program to run");

  /* Opened through the runtime's /proc/<pid>/fd, so it must happen before
     the new procfs hides the runtime's PID namespace. */
  if (status) {
    int fd = open(status, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      fail(125, "open status pipe %s: %s", status, strerrorname_np(errno));
    status_fd = fd;
  }

  if (deathsig) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
      fail(125, "prctl(PR_SET_PDEATHSIG): %s", strerrorname_np(errno));
    /* The runtime may have died before the line above: in a shared PID
       namespace we were then re-parented to the pause (PID 1). */
    if (getpid() != 1 && getppid() == 1)
      fail(125, "runtime exited before the container started");
  }

  if (newproc) {
    if (umount2("/proc", MNT_DETACH) < 0)
      fail(125, "umount2(/proc, MNT_DETACH): %s", strerrorname_np(errno));
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
      fail(125, "mount(proc, /proc): %s", strerrorname_np(errno));
  }

  /* Everything the runtime let through (its own descriptors, the status pipe)
     closes on exec; older kernels without close_range keep the CLOEXEC flags
     that Node and Deno already set. */
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

  if (workdir && chdir(workdir) < 0)
    fail(125, "chdir to cwd (\"%s\") set in config: %s", workdir, strerror(errno));

  const char *prog = argv[optind];
  if (argv0)
    argv[optind] = (char *)argv0;
  execvpe(prog, &argv[optind], environ);
  int err = errno;
  if (err == ENOENT && !strchr(prog, '/'))
    fail(127, "exec: \"%s\": executable file not found in $PATH", prog);
  fail(err == ENOENT || err == ENOTDIR ? 127 : 126, "exec: \"%s\": %s", prog, strerror(err));
}
