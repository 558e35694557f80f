/*
 * syscall-probe: a test tool (never part of a pod) that tries each call the
 * default seccomp filter refuses and prints "NAME ERRNO" for each, so that a
 * test can tell the filter's EPERM from the kernel's own answer.
 *
 * The tests also run it unconfined with every capability, where the kernel
 * itself answers: so each call's arguments make it fail before it does
 * anything (a NULL pointer, flags the kernel rejects, a wrong magic number,
 * an fd of -1), checked by the kernel ahead of, or instead of, the
 * capability that would give EPERM. Nothing here may ever succeed on the
 * host: the test fails on an OK.
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

/* Not among unshare's flags (EINVAL): a namespace flag beside it makes the call one the filter refuses, and one the kernel never performs. */
#define NOT_UNSHARE CLONE_PARENT
/* The kernel rejects a new user namespace sharing the parent's fs_struct (EINVAL), before it copies anything. */
#define CLONE_NEWUSER_INVALID (CLONE_NEWUSER | CLONE_FS)
/* Not a readable address (below mmap_min_addr): the kernel's copy from it fails with EFAULT. */
#define BAD_POINTER 1L

struct probe {
  const char *name;
  long nr;
  long args[6];
};

int main(void) {
  const struct probe probes[] = {
    /* flags: every bit, and more segments than KEXEC_SEGMENT_MAX (EINVAL) */
    {"kexec_load", SYS_kexec_load, {0, 1000, 0, -1L}},
    {"open_by_handle_at", SYS_open_by_handle_at, {-1, 0, 0}},
    /* an image shorter than an ELF header (ENOEXEC) */
    {"init_module", SYS_init_module, {0, 0, 0}},
    {"finit_module", SYS_finit_module, {-1, 0, -1L}},
    {"delete_module", SYS_delete_module, {0, 0}},
    {"bpf", SYS_bpf, {-1, 0, 0}},
    {"perf_event_open", SYS_perf_event_open, {0, 0, -1, -1, 0}},
    {"keyctl", SYS_keyctl, {-1}},
    {"add_key", SYS_add_key, {0, 0, 0, 0, 0}},
    {"request_key", SYS_request_key, {0, 0, 0, 0}},
    {"unshare(CLONE_NEWUSER)", SYS_unshare, {CLONE_NEWUSER | NOT_UNSHARE}},
    {"unshare(CLONE_NEWNS)", SYS_unshare, {CLONE_NEWNS | NOT_UNSHARE}},
    {"clone(CLONE_NEWUSER)", SYS_clone, {CLONE_NEWUSER_INVALID, 0, 0, 0, 0}},
    {"setns", SYS_setns, {-1, 0}},
    {"mount", SYS_mount, {0, 0, 0, 0, 0}},
    /* flags beyond MNT_FORCE|MNT_DETACH|MNT_EXPIRE|UMOUNT_NOFOLLOW (EINVAL), checked before the path */
    {"umount2", SYS_umount2, {0, -1}},
    {"pivot_root", SYS_pivot_root, {0, 0}},
    /* flags beyond SWAP_FLAGS_VALID (EINVAL), checked first */
    {"swapon", SYS_swapon, {0, -1}},
    {"swapoff", SYS_swapoff, {0}},
    /* not LINUX_REBOOT_MAGIC1 (EINVAL) */
    {"reboot", SYS_reboot, {0, 0, 0, 0}},
    /* NULL for both would be a successful no-op */
    {"settimeofday", SYS_settimeofday, {BAD_POINTER, 0}},
    /* NULL would turn accounting off */
    {"acct", SYS_acct, {BAD_POINTER}},
    /* a quota type past MAXQUOTAS (EINVAL), checked first */
    {"quotactl", SYS_quotactl, {-1, 0, 0, 0}},
    {"lookup_dcookie", SYS_lookup_dcookie, {0, 0, 0}},
    /* flags beyond O_CLOEXEC|O_NONBLOCK|UFFD_USER_MODE_ONLY (EINVAL) */
    {"userfaultfd", SYS_userfaultfd, {-1}},
    /* a size below CLONE_ARGS_SIZE_VER0 (EINVAL) */
    {"clone3", SYS_clone3, {0, 0}},
    {"getpid", SYS_getpid, {0}},
  };
  for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
    const long *a = probes[i].args;
    errno = 0;
    long r = syscall(probes[i].nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    printf("%s %s\n", probes[i].name, r < 0 ? strerrorname_np(errno) : "OK");
  }
  return 0;
}
