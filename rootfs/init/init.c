/*
 * minipod-init: the last step between the runtime and a container's program.
 *
 * The runtime (Node or Deno) prepares namespaces and the root filesystem on
 * its own thread and must be able to undo every step it takes there. What
 * cannot be undone, or must happen inside the new PID namespace, happens here,
 * in the child, just before exec:
 *   - join the container's cgroups, before anything of the app runs (the
 *     runtime could only move the process after the fact);
 *   - tie the child's life to the runtime (PR_SET_PDEATHSIG), so that a
 *     runtime killed with SIGKILL does not leave a pod behind;
 *   - replace the /proc the runtime bound in for this exec (a procfs in which
 *     this process is visible, so that it could be exec'd as /proc/self/fd/N)
 *     with a fresh procfs, which only a process inside the container's PID
 *     namespace can mount;
 *   - hide and protect what the kernel exposes under /proc and /sys (-k masks
 *     a path, -o makes it read-only), once the container's own /proc is there;
 *   - switch to the pod's user, group and supplementary groups, and keep only
 *     the capabilities it is given (-C): irreversible, so never on the
 *     runtime's own thread; then no_new_privs (-n); a seccomp filter (-S, the
 *     program the runtime built, in hex) is installed before the user
 *     switch, while the right to install one without no_new_privs is still
 *     held, and after the last call it refuses (mount, setns);
 *   - mark every inherited fd >= 3 close-on-exec, so no host fd reaches the app;
 *   - chdir to the working directory (as the user, so its permissions apply)
 *     and exec the program, resolving it through the container's PATH.
 * For `minipod exec`, -T makes a pseudo-terminal the controlling terminal
 * and standard streams.
 * With -P DIR (the pause), it first mounts a procfs of the pod's PID
 * namespace on DIR, in the pod's mount namespace, for containers to be
 * started from (see lib/rootfs/plan.ts); then it moves into a mount namespace of its own
 * whose root is an empty read-only tmpfs on DIR: nothing of the host's tree
 * is reachable through the pause's /proc/1/root, as with Kubernetes' pause
 * in its scratch image; the program is exec'd from a descriptor opened before.
 * With -r (a pod on the host's PID namespace), it stays as the app's parent
 * instead: a child subreaper that forwards signals to the app and, once the
 * app has exited, kills and reaps whatever the app left behind. In a PID
 * namespace of its own the kernel does that when the app (PID 1) exits; on
 * the host's, nothing else would.
 * The runtime execs this binary as /proc/self/fd/<n>, its sealed copy, which
 * the child still holds at exec; the file itself is never in the container's
 * tree. STATUS, CGROUP.PROCS and TTY are descriptors it inherits: no path
 * of the runtime's has to be reachable from where it runs.
 *
 * usage: minipod-init [-a ARGV0] [-d] [-p] [-s STATUS] [-c CGROUP.PROCS]... [-w DIR]
 *                     [-u UID -g GID [-G GID,GID...]] [-C CAPMASK] [-n] [-S FILTER] [-k PATH]... [-o PATH]...
 *                     [-r] [-T TTY] [-P DIR] -- PROGRAM [ARG...]
 * Failures are written to STATUS (a pipe the runtime reads after the child
 * exits) as one line, and the exit code follows the shells' convention:
 * 127 not found, 126 not executable, 125 for any other setup failure.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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

/* The runtime holds the only read end of the status pipe (close-on-exec for
   its other children) until this child has ended, so no reader is left
   exactly when the runtime has died. Unlike getppid(), this tells for PID 1
   of a new PID namespace too, whose parent is outside it (0). */
static int runtime_gone(void) {
  struct pollfd p = {status_fd, 0, 0};
  return status_fd != 2 && poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* Everything the runtime let through (the status pipe, whatever a runtime
   left without close-on-exec) closes on exec. Before close_range (5.9, its
   CLOEXEC flag 5.11), each descriptor /proc/self/fd lists; a descriptor
   left open is a failed start, not a leak. */
static void cloexec_inherited(void) {
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
  int err = errno;
  DIR *dir = opendir("/proc/self/fd");
  if (!dir)
    fail(125, "close_range: %s, and opendir(/proc/self/fd): %s", strerrorname_np(err), strerrorname_np(errno));
  for (struct dirent *e; (e = readdir(dir));) {
    int fd = atoi(e->d_name);
    if (fd >= 3 && fd != dirfd(dir) && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
      fail(125, "fcntl(%d, F_SETFD, FD_CLOEXEC): %s", fd, strerrorname_np(errno));
  }
  closedir(dir);
}

#define MAX_GROUPS 64
#define MAX_CGROUPS 8
#define MAX_PATHS 32

/* An empty read-only tmpfs over a directory, the real /dev/null over a file
   (checked to be the character device 1:3, not whatever an image put at
   /dev/null). A path the kernel does not have is fine. */
static void mask_path(const char *path) {
  struct stat st, null;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT)
      return;
    fail(125, "mask %s: stat: %s", path, strerrorname_np(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
      fail(125, "mask %s: mount tmpfs: %s", path, strerrorname_np(errno));
    return;
  }
  if (stat("/dev/null", &null) < 0 || !S_ISCHR(null.st_mode) || major(null.st_rdev) != 1 || minor(null.st_rdev) != 3)
    fail(125, "mask %s: /dev/null is not the null device", path);
  if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
    fail(125, "mask %s: bind /dev/null: %s", path, strerrorname_np(errno));
}

static void readonly_path(const char *path) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT)
      return;
    fail(125, "read-only %s: bind: %s", path, strerrorname_np(errno));
  }
  if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    fail(125, "read-only %s: remount: %s", path, strerrorname_np(errno));
}

#define MAX_FILTER 4096

static void install_filter(const char *hex) {
  static struct sock_filter program[MAX_FILTER];
  size_t len = strlen(hex);
  if (len == 0 || len % 16 || len / 16 > MAX_FILTER)
    fail(125, "minipod-init: -S: not a filter program (%zu hex digits)", len);
  unsigned char *bytes = (unsigned char *)program;
  for (size_t i = 0; i < len / 2; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1)
      fail(125, "minipod-init: -S: not hex");
    bytes[i] = v;
  }
  struct sock_fprog prog = {(unsigned short)(len / 16), program};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
    fail(125, "prctl(PR_SET_SECCOMP): %s", strerrorname_np(errno));
}

/* Bounding set first (it needs CAP_SETPCAP, gone after setuid), the rest
   once the user is switched: a non-root user has no effective or permitted
   capabilities by then, root keeps exactly `mask`. */
static void drop_bounding(unsigned long long mask) {
  for (int cap = 0; cap <= 63; cap++) {
    if (mask & (1ULL << cap))
      continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL)
        break; /* past the kernel's last capability */
      fail(125, "prctl(PR_CAPBSET_DROP, %d): %s", cap, strerrorname_np(errno));
    }
  }
}

static void set_capabilities(unsigned long long mask) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {{0}};
  /* What we hold ourselves bounds what we can give: a runtime without
     CAP_SYS_RESOURCE (this sandbox's) cannot grant it to a privileged container. */
  if (syscall(SYS_capget, &header, data) < 0)
    fail(125, "capget: %s", strerrorname_np(errno));
  unsigned long long held = data[0].permitted | (unsigned long long)data[1].permitted << 32;
  if (getuid() != 0)
    mask = 0;
  mask &= held;
  data[0].effective = data[0].permitted = (unsigned)mask;
  data[1].effective = data[1].permitted = (unsigned)(mask >> 32);
  data[0].inheritable = data[1].inheritable = 0;
  if (syscall(SYS_capset, &header, data) < 0)
    fail(125, "capset: %s", strerrorname_np(errno));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    fail(125, "prctl(PR_CAP_AMBIENT_CLEAR_ALL): %s", strerrorname_np(errno));
}

static unsigned id_arg(const char *text, const char *what) {
  char *end;
  errno = 0;
  unsigned long id = strtoul(text, &end, 10);
  if (errno || end == text || *end || id > INT_MAX)
    fail(125, "minipod-init: %s: not an ID: \"%s\"", what, text);
  return id;
}

static int fd_arg(const char *text, const char *what) {
  char *end;
  errno = 0;
  long fd = strtol(text, &end, 10);
  if (errno || end == text || *end || fd < 3 || fd > INT_MAX || fcntl(fd, F_GETFD) < 0)
    fail(125, "minipod-init: %s: not an inherited descriptor: \"%s\"", what, text);
  return fd;
}

static size_t groups_arg(char *list, gid_t *groups) {
  size_t n = 0;
  for (char *item = strtok(list, ","); item; item = strtok(NULL, ",")) {
    if (n == MAX_GROUPS)
      fail(125, "minipod-init: more than %d supplementary groups", MAX_GROUPS);
    groups[n++] = id_arg(item, "-G");
  }
  return n;
}

/* Everything left among our children (orphans re-parent to us, a subreaper)
   is killed and reaped, round after round, until none is left. Only the
   pids listed are waited for: one forked meanwhile is in the next round. */
static void kill_leftovers(void) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", getpid());
  for (;;) {
    char buf[8192];
    pid_t pids[1024];
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
      close(fd);
    if (len <= 0)
      break;
    buf[len] = 0;
    for (char *tok = strtok(buf, " \n"); tok && n < 1024; tok = strtok(NULL, " \n"))
      kill(pids[n++] = atoi(tok), SIGKILL);
    for (size_t i = 0; i < n; i++)
      while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
        ;
  }
}

/* Returns in the child, which goes on to become the app; the parent
   supervises it and exits as it did. */
static void become_reaper(void) {
  static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  sigset_t set, old;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaddset(&set, forwarded[i]);
  sigaddset(&set, SIGCHLD);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    fail(125, "prctl: %s", strerrorname_np(errno));
  sigprocmask(SIG_BLOCK, &set, &old);
  pid_t app = fork();
  if (app < 0)
    fail(125, "fork: %s", strerrorname_np(errno));
  if (app == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    return;
  }
  prctl(PR_SET_NAME, "minipod-init", 0, 0, 0);
  for (;;) {
    siginfo_t info;
    if (sigwaitinfo(&set, &info) < 0)
      continue;
    if (info.si_signo != SIGCHLD) {
      kill(app, info.si_signo);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != app)
        continue;
      kill_leftovers();
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

int main(int argc, char **argv) {
  int deathsig = 0, newproc = 0, setuser = 0, reaper = 0, nnp = 0, setcaps = 0;
  unsigned long long caps = 0;
  const char *filter = NULL, *isolate = NULL;
  const char *masked[MAX_PATHS], *readonly[MAX_PATHS];
  size_t nmasked = 0, nreadonly = 0;
  const char *workdir = NULL, *argv0 = NULL;
  int tty = -1;
  uid_t uid = 0;
  gid_t gid = 0, groups[MAX_GROUPS];
  size_t ngroups = 0, ncgroups = 0;
  int cgroups[MAX_CGROUPS];
  int opt;
  while ((opt = getopt(argc, argv, "+a:c:dnprs:S:P:T:w:u:g:G:C:k:o:")) != -1) {
    switch (opt) {
    case 'a': argv0 = optarg; break;
    case 'c':
      if (ncgroups == MAX_CGROUPS)
        fail(125, "minipod-init: more than %d cgroups", MAX_CGROUPS);
      cgroups[ncgroups++] = fd_arg(optarg, "-c");
      break;
    case 'd': deathsig = 1; break;
    case 'p': newproc = 1; break;
    case 'n': nnp = 1; break;
    case 'S': filter = optarg; break;
    case 'P': isolate = optarg; break;
    case 'C': caps = strtoull(optarg, NULL, 16); setcaps = 1; break;
    case 'k':
    case 'o':
      if ((opt == 'k' ? nmasked : nreadonly) == MAX_PATHS)
        fail(125, "minipod-init: more than %d paths", MAX_PATHS);
      if (opt == 'k')
        masked[nmasked++] = optarg;
      else
        readonly[nreadonly++] = optarg;
      break;
    case 'T': tty = fd_arg(optarg, "-T"); break;
    case 'r': reaper = 1; break;
    case 's': status_fd = fd_arg(optarg, "-s"); break;
    case 'w': workdir = optarg; break;
    case 'u': uid = id_arg(optarg, "-u"); setuser |= 1; break;
    case 'g': gid = id_arg(optarg, "-g"); setuser |= 2; break;
    case 'G': ngroups = groups_arg(optarg, groups); break;
    default: fail(125, "minipod-init: usage: minipod-init [-a ARGV0] [-d] [-p] [-s STATUS] [-c FILE]... [-w DIR] [-u UID -g GID [-G GIDS]] [-C CAPS] [-n] [-S FILTER] [-k PATH] [-o PATH] [-r] [-T TTY] [-P DIR] -- PROGRAM [ARG...]");
    }
  }
  if (setuser && setuser != 3)
    fail(125, "minipod-init: -u and -g go together");
  if (optind >= argc)
    fail(125, "minipod-init: no program to run");

  /* "0" is the writer itself. */
  for (size_t i = 0; i < ncgroups; i++) {
    if (write(cgroups[i], "0", 1) != 1)
      fail(125, "join cgroup (fd %d): %s", cgroups[i], strerrorname_np(errno));
    close(cgroups[i]);
  }

  if (tty >= 0) {
    if (setsid() < 0)
      fail(125, "setsid: %s", strerrorname_np(errno));
    if (ioctl(tty, TIOCSCTTY, 0) < 0)
      fail(125, "ioctl(fd %d, TIOCSCTTY): %s", tty, strerrorname_np(errno));
    for (int i = 0; i < 3; i++)
      if (dup2(tty, i) < 0)
        fail(125, "dup2 terminal: %s", strerrorname_np(errno));
    close(tty);
  }

  if (newproc) {
    if (umount2("/proc", MNT_DETACH) < 0)
      fail(125, "umount2(/proc, MNT_DETACH): %s", strerrorname_np(errno));
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
      fail(125, "mount(proc, /proc): %s", strerrorname_np(errno));
  }

  cloexec_inherited();

  for (size_t i = 0; i < nmasked; i++)
    mask_path(masked[i]);
  for (size_t i = 0; i < nreadonly; i++)
    readonly_path(readonly[i]);

  int program = -1;
  if (isolate) {
    program = open(argv[optind], O_RDONLY | O_CLOEXEC);
    if (program < 0)
      fail(125, "open %s: %s", argv[optind], strerrorname_np(errno));
    /* In the pod's mount namespace, which the pause then leaves: covered
       in its own by the empty root below. */
    if (mount("proc", isolate, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
      fail(125, "mount proc on %s: %s", isolate, strerrorname_np(errno));
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
      fail(125, "a mount namespace of its own: %s", strerrorname_np(errno));
    if (mount("tmpfs", isolate, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=555") < 0)
      fail(125, "mount tmpfs on %s: %s", isolate, strerrorname_np(errno));
    if (chdir(isolate) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
      fail(125, "pivot_root to an empty root: %s", strerrorname_np(errno));
  }

  /* Before the switch of user: the reaper keeps the right to kill what the app leaves. */
  if (reaper)
    become_reaper();

  if (filter)
    install_filter(filter);
  if (setcaps)
    drop_bounding(caps);

  if (setuser) {
    /* Groups first: after setuid there is no right left to change them. */
    if (setgroups(ngroups, groups) < 0)
      fail(125, "setgroups(%zu groups): %s", ngroups, strerrorname_np(errno));
    if (setgid(gid) < 0)
      fail(125, "setgid(%u): %s", gid, strerrorname_np(errno));
    if (setuid(uid) < 0)
      fail(125, "setuid(%u): %s", uid, strerrorname_np(errno));
  }

  if (setcaps)
    set_capabilities(caps);
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    fail(125, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerrorname_np(errno));

  /* After the switch of user: a change of credentials clears the
     parent-death signal. */
  if (deathsig) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
      fail(125, "prctl(PR_SET_PDEATHSIG): %s", strerrorname_np(errno));
    /* The runtime may have died before the line above. */
    if (runtime_gone()) {
      status_fd = 2; /* nobody reads the pipe any more: a write there would raise SIGPIPE */
      fail(125, "runtime exited before the container started");
    }
  }

  if (workdir && chdir(workdir) < 0)
    fail(125, "chdir to cwd (\"%s\") set in config: %s", workdir, strerror(errno));
  /* As runc since CVE-2024-21626: a directory reached through a descriptor
     of the host's (/proc/self/fd/N) is outside the root, which getcwd tells
     (glibc: ENOENT; the kernel: a path not starting with '/'). */
  if (workdir) {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/')
      fail(125, "chdir to cwd (\"%s\") set in config: the directory is outside the container's root", workdir);
  }

  const char *prog = argv[optind];
  if (argv0)
    argv[optind] = (char *)argv0;
  if (program >= 0) {
    fexecve(program, &argv[optind], environ);
    fail(126, "exec %s: %s", prog, strerror(errno));
  }
  execvpe(prog, &argv[optind], environ);
  int err = errno;
  if (err == ENOENT && !strchr(prog, '/'))
    fail(127, "exec: \"%s\": executable file not found in $PATH", prog);
  fail(err == ENOENT || err == ENOTDIR ? 127 : 126, "exec: \"%s\": %s", prog, strerror(err));
}
