/*
 * syscall-probe: a test tool (never part of a pod) that tries each call the
 * default seccomp filter refuses and prints "NAME ERRNO" for each, so that a
 * test can tell the filter's EPERM from the kernel's own answer. The
 * arguments are chosen so that a call the filter lets through fails
 * harmlessly (a NULL pointer, a bad magic number, an fd of -1).
 *
 * usage: syscall-probe       (static; built by make into build/)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct probe {
  const char *name;
  long nr;
  long a0, a1, a2;
};

int main(void) {
  const struct probe probes[] = {
    {"mount", SYS_mount, 0, 0, 0},
    {"umount2", SYS_umount2, 0, 0, 0},
    {"pivot_root", SYS_pivot_root, 0, 0, 0},
    {"unshare(CLONE_NEWUSER)", SYS_unshare, CLONE_NEWUSER, 0, 0},
    {"unshare(CLONE_NEWNS)", SYS_unshare, CLONE_NEWNS, 0, 0},
    {"setns", SYS_setns, -1, 0, 0},
    {"bpf", SYS_bpf, -1, 0, 0},
    {"perf_event_open", SYS_perf_event_open, 0, 0, 0},
    {"keyctl", SYS_keyctl, -1, 0, 0},
    {"add_key", SYS_add_key, 0, 0, 0},
    {"request_key", SYS_request_key, 0, 0, 0},
    {"init_module", SYS_init_module, 0, 0, 0},
    {"finit_module", SYS_finit_module, -1, 0, 0},
    {"delete_module", SYS_delete_module, 0, 0, 0},
    {"kexec_load", SYS_kexec_load, 0, 0, 0},
    {"open_by_handle_at", SYS_open_by_handle_at, -1, 0, 0},
    {"reboot", SYS_reboot, 0, 0, 0},
    {"swapon", SYS_swapon, 0, 0, 0},
    {"swapoff", SYS_swapoff, 0, 0, 0},
    {"settimeofday", SYS_settimeofday, 0, 0, 0},
    {"acct", SYS_acct, 0, 0, 0},
    {"userfaultfd", SYS_userfaultfd, -1, 0, 0},
    {"clone3", SYS_clone3, 0, 0, 0},
    {"getpid", SYS_getpid, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
    errno = 0;
    long r = syscall(probes[i].nr, probes[i].a0, probes[i].a1, probes[i].a2);
    printf("%s %s\n", probes[i].name, r < 0 ? strerrorname_np(errno) : "OK");
  }
  return 0;
}
