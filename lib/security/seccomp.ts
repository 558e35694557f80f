// minipod's default seccomp filter (seccompProfile RuntimeDefault): a classic
// BPF program that refuses what Docker's default profile refuses among the
// dangerous calls, and allows the rest. minipod-init installs it just before
// exec, so it is built here as the raw bytes of a struct sock_filter array.
// Constants are the kernel's uapi headers' (linux/seccomp.h, linux/filter.h,
// linux/bpf_common.h, linux/audit.h).

export type SeccompArch = 'x86_64' | 'aarch64';

// Syscall numbers: x86_64 from asm/unistd_64.h, aarch64 from asm-generic/unistd.h
// (arm64 has no table of its own). null: the arch has no such call.
const BLOCKED: Record<string, readonly [x86_64: number | null, aarch64: number | null]> = {
  // Replacing or extending the kernel.
  kexec_load: [246, 104],
  kexec_file_load: [320, 294],
  init_module: [175, 105],
  finit_module: [313, 273],
  delete_module: [176, 106],
  // Kernel attack surface a container has no use for.
  bpf: [321, 280],
  perf_event_open: [298, 241],
  userfaultfd: [323, 282],
  lookup_dcookie: [212, 18],
  uselib: [134, null],
  nfsservctl: [180, 42],
  // The kernel keyring is not namespaced.
  keyctl: [250, 219],
  add_key: [248, 217],
  request_key: [249, 218],
  // Mounts, old API and new (else fsopen/fsmount/move_mount would do what mount is refused).
  mount: [165, 40],
  umount2: [166, 39],
  pivot_root: [155, 41],
  fsopen: [430, 430],
  fsconfig: [431, 431],
  fsmount: [432, 432],
  move_mount: [429, 429],
  open_tree: [428, 428],
  fspick: [433, 433],
  mount_setattr: [442, 442],
  // Leaving the pod's namespaces, or reaching files outside its root by handle.
  setns: [308, 268],
  open_by_handle_at: [304, 265],
  name_to_handle_at: [303, 264],
  // Host-wide state: swap, power, clocks, accounting, quotas, the kernel log, terminals, I/O ports.
  swapon: [167, 224],
  swapoff: [168, 225],
  reboot: [169, 142],
  settimeofday: [164, 170],
  clock_settime: [227, 112],
  acct: [163, 89],
  quotactl: [179, 60],
  quotactl_fd: [443, 443],
  syslog: [103, 116],
  vhangup: [153, 58],
  iopl: [172, null],
  ioperm: [173, null],
};

/** The calls the default filter refuses with EPERM, by name (for the README and the tests). */
export const BLOCKED_SYSCALLS: readonly string[] = Object.keys(BLOCKED);

const ARCHES = {
  // AUDIT_ARCH_* = EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
  x86_64: { audit: 0xc000003e, column: 0, clone: 56, clone3: 435, unshare: 272, x32: true },
  aarch64: { audit: 0xc00000b7, column: 1, clone: 220, clone3: 435, unshare: 97, x32: false },
} as const;

// Offsets into struct seccomp_data { int nr; __u32 arch; __u64 ip; __u64 args[6]; }.
// args[0]'s low word comes first on these little-endian ABIs; the namespace flags all live there.
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16;

const X32_SYSCALL_BIT = 0x40000000;
// CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (Docker's mask, 0x7e020000).
const CLONE_NEW_ANY = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
// unshare only: in clone's flags this bit belongs to the exit signal (CSIGNAL).
const CLONE_NEWTIME = 0x00000080;

const EPERM = 1;
const ENOSYS = 38;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;

// BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_JMP|BPF_JSET|BPF_K, BPF_RET|BPF_K.
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JSET_K = 0x45;
const RET_K = 0x06;

const MAX_INSTRUCTIONS = 4096; // BPF_MAXINSNS

/** A tiny assembler: jumps name a label (or fall through) and are resolved to jt/jf offsets at the end. */
class Assembler {
  private readonly code: { op: number; k: number; jt?: string; jf?: string }[] = [];
  private readonly labels = new Map<string, number>();

  label(name: string): void {
    this.labels.set(name, this.code.length);
  }
  ld(offset: number): void {
    this.code.push({ op: LD_W_ABS, k: offset });
  }
  jeq(k: number, jt?: string, jf?: string): void {
    this.code.push({ op: JEQ_K, k, jt, jf });
  }
  jset(k: number, jt?: string, jf?: string): void {
    this.code.push({ op: JSET_K, k, jt, jf });
  }
  ret(k: number): void {
    this.code.push({ op: RET_K, k });
  }

  bytes(): Uint8Array {
    if (this.code.length > MAX_INSTRUCTIONS) throw new Error(`seccomp filter too long: ${this.code.length} instructions`);
    const out = new Uint8Array(this.code.length * 8);
    const view = new DataView(out.buffer);
    this.code.forEach(({ op, k, jt, jf }, pc) => {
      view.setUint16(pc * 8, op, true);
      view.setUint8(pc * 8 + 2, this.offset(pc, jt));
      view.setUint8(pc * 8 + 3, this.offset(pc, jf));
      view.setUint32(pc * 8 + 4, k >>> 0, true);
    });
    return out;
  }

  // Classic BPF only jumps forward, by at most 255 from the next instruction.
  private offset(pc: number, label: string | undefined): number {
    if (label === undefined) return 0;
    const target = this.labels.get(label);
    if (target === undefined) throw new Error(`seccomp filter: no label ${label}`);
    const offset = target - pc - 1;
    if (offset < 0 || offset > 255) throw new Error(`seccomp filter: jump to ${label} out of range (${offset})`);
    return offset;
  }
}

/** The default filter for `arch`, as the bytes of its sock_filter array (8 bytes per instruction: u16 code, u8 jt, u8 jf, u32 k, little-endian). */
export function defaultSeccompFilter(arch: SeccompArch): Uint8Array {
  const { audit, column, clone, clone3, unshare, x32 } = ARCHES[arch];
  const a = new Assembler();
  // Numbers mean nothing under another ABI (i386's int 0x80 on x86_64, say): only the native one passes.
  a.ld(ARCH);
  a.jeq(audit, undefined, 'kill');
  a.ld(NR);
  // x32 calls are the same calls with this bit set; refused, or they would slip past every number below.
  if (x32) a.jset(X32_SYSCALL_BIT, 'eperm');
  // clone3's flags sit behind a pointer the filter cannot read: ENOSYS makes libc fall back to clone, which it can.
  a.jeq(clone3, 'enosys');
  a.jeq(clone, 'clone');
  a.jeq(unshare, 'unshare');
  for (const numbers of Object.values(BLOCKED)) {
    const nr = numbers[column];
    if (nr !== null) a.jeq(nr, 'eperm');
  }
  a.ret(RET_ALLOW);
  // New namespaces (a user namespace above all, the doorway to most kernel exploits) are refused;
  // plain fork, threads and unshare(CLONE_FILES) pass.
  a.label('unshare');
  a.ld(ARG0_LOW);
  a.jset(CLONE_NEWTIME, 'eperm', 'namespaces');
  a.label('clone');
  a.ld(ARG0_LOW);
  a.label('namespaces');
  a.jset(CLONE_NEW_ANY, 'eperm');
  a.ret(RET_ALLOW);
  a.label('eperm');
  a.ret(RET_ERRNO | EPERM);
  a.label('enosys');
  a.ret(RET_ERRNO | ENOSYS);
  a.label('kill');
  a.ret(RET_KILL_PROCESS);
  return a.bytes();
}

/** Hex of those bytes, as minipod-init's -S option takes it. */
export function seccompArg(arch: SeccompArch): string {
  return Array.from(defaultSeccompFilter(arch), (b) => b.toString(16).padStart(2, '0')).join('');
}
