import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BLOCKED_SYSCALLS, defaultSeccompFilter, seccompArg, type SeccompArch } from '../../../lib/security/seccomp.ts';

// Numbers typed in again from the headers, not taken from the module, so a wrong one there shows up here:
// x86_64 from /usr/include/x86_64-linux-gnu/asm/unistd_64.h (e.g. mount 165, bpf 321, unshare 272, clone 56,
// clone3 435), aarch64 from asm-generic/unistd.h (mount 40, bpf 280, unshare 97, clone 220, clone3 435).
const NUMBERS: Record<SeccompArch, Record<string, number>> = {
  x86_64: {
    read: 0, write: 1, getpid: 39, clone: 56, execve: 59, openat: 257, unshare: 272, clone3: 435,
    kexec_load: 246, kexec_file_load: 320, init_module: 175, finit_module: 313, delete_module: 176, bpf: 321,
    perf_event_open: 298, userfaultfd: 323, lookup_dcookie: 212, uselib: 134, nfsservctl: 180, keyctl: 250,
    add_key: 248, request_key: 249, mount: 165, umount2: 166, pivot_root: 155, fsopen: 430, fsconfig: 431,
    fsmount: 432, move_mount: 429, open_tree: 428, fspick: 433, mount_setattr: 442, setns: 308,
    open_by_handle_at: 304, name_to_handle_at: 303, swapon: 167, swapoff: 168, reboot: 169, settimeofday: 164,
    clock_settime: 227, acct: 163, quotactl: 179, quotactl_fd: 443, syslog: 103, vhangup: 153, iopl: 172, ioperm: 173,
  },
  aarch64: {
    read: 63, write: 64, getpid: 172, clone: 220, execve: 221, openat: 56, unshare: 97, clone3: 435,
    kexec_load: 104, kexec_file_load: 294, init_module: 105, finit_module: 273, delete_module: 106, bpf: 280,
    perf_event_open: 241, userfaultfd: 282, lookup_dcookie: 18, nfsservctl: 42, keyctl: 219, add_key: 217,
    request_key: 218, mount: 40, umount2: 39, pivot_root: 41, fsopen: 430, fsconfig: 431, fsmount: 432,
    move_mount: 429, open_tree: 428, fspick: 433, mount_setattr: 442, setns: 268, open_by_handle_at: 265,
    name_to_handle_at: 264, swapon: 224, swapoff: 225, reboot: 142, settimeofday: 170, clock_settime: 112, acct: 89,
    quotactl: 60, quotactl_fd: 443, syslog: 116, vhangup: 58,
  },
};
// iopl, ioperm and uselib exist only on x86_64: their numbers are other calls on aarch64 (172 is getpid).
const X86_ONLY = ['iopl', 'ioperm', 'uselib'];

const AUDIT_ARCH: Record<SeccompArch, number> = { x86_64: 0xc000003e, aarch64: 0xc00000b7 };
const AUDIT_ARCH_I386 = 0x40000003;

const ALLOW = 0x7fff0000;
const KILL_PROCESS = 0x80000000;
const EPERM = 0x00050000 | 1;
const ENOSYS = 0x00050000 | 38;

const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_THREAD = 0x10000;
const CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000;
const CLONE_NEWNS = 0x20000, CLONE_NEWUSER = 0x10000000, CLONE_NEWNET = 0x40000000, CLONE_NEWTIME = 0x80;
const SIGCHLD = 17;
// What glibc's pthread_create passes.
const THREAD = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS
  | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;

/** Classic BPF, only what the filter uses, with the checks the kernel makes on a seccomp program. */
function run(program: Uint8Array, data: DataView): number {
  const code = new DataView(program.buffer, program.byteOffset, program.byteLength);
  let a = 0;
  for (let pc = 0; pc < program.length / 8;) {
    const op = code.getUint16(pc * 8, true);
    const jt = code.getUint8(pc * 8 + 2);
    const jf = code.getUint8(pc * 8 + 3);
    const k = code.getUint32(pc * 8 + 4, true);
    pc++;
    switch (op) {
      case 0x20: // ld [k]: aligned, inside struct seccomp_data
        if (k % 4 || k >= 64) throw new Error(`bad load offset ${k}`);
        a = data.getUint32(k, true);
        break;
      case 0x15: // jeq #k
        pc += a === k ? jt : jf;
        break;
      case 0x45: // jset #k
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06: // ret #k
        return k;
      default:
        throw new Error(`unexpected opcode 0x${op.toString(16)} at ${pc - 1}`);
    }
  }
  throw new Error('ran off the end of the program');
}

function call(arch: SeccompArch, nr: number, arg0 = 0, auditArch = AUDIT_ARCH[arch]): number {
  const data = new DataView(new ArrayBuffer(64));
  data.setInt32(0, nr, true);
  data.setUint32(4, auditArch, true);
  data.setBigUint64(16, BigInt(arg0), true);
  return run(defaultSeccompFilter(arch), data);
}

const nr = (arch: SeccompArch, name: string) => {
  const n = NUMBERS[arch][name];
  if (n === undefined) throw new Error(`no number for ${name} on ${arch}`);
  return n;
};

test('every blocked call is one the tables here know', () => {
  for (const name of BLOCKED_SYSCALLS) {
    assert.ok(name in NUMBERS.x86_64 || name in NUMBERS.aarch64, name);
  }
  for (const name of ['mount', 'bpf', 'keyctl', 'setns', 'fsopen', 'iopl']) assert.ok(BLOCKED_SYSCALLS.includes(name), name);
  assert.not.ok(BLOCKED_SYSCALLS.includes('ptrace'), 'ptrace is left to the kernel');
});

for (const arch of ['x86_64', 'aarch64'] as const) {
  test(`${arch}: every blocked call gets EPERM`, () => {
    for (const name of BLOCKED_SYSCALLS) {
      if (arch === 'aarch64' && X86_ONLY.includes(name)) continue;
      assert.is(call(arch, nr(arch, name)), EPERM, name);
    }
  });

  test(`${arch}: ordinary calls, fork and threads pass`, () => {
    for (const name of ['getpid', 'read', 'write', 'openat', 'execve']) assert.is(call(arch, nr(arch, name)), ALLOW, name);
    assert.is(call(arch, nr(arch, 'clone'), THREAD), ALLOW);
    assert.is(call(arch, nr(arch, 'clone'), SIGCHLD), ALLOW);
    assert.is(call(arch, nr(arch, 'unshare'), CLONE_FILES), ALLOW);
    assert.is(call(arch, nr(arch, 'unshare'), CLONE_FS), ALLOW);
  });

  test(`${arch}: clone and unshare may not make namespaces`, () => {
    assert.is(call(arch, nr(arch, 'clone'), CLONE_NEWUSER | SIGCHLD), EPERM);
    assert.is(call(arch, nr(arch, 'clone'), THREAD | CLONE_NEWNET), EPERM);
    assert.is(call(arch, nr(arch, 'unshare'), CLONE_NEWNS), EPERM);
    assert.is(call(arch, nr(arch, 'unshare'), CLONE_NEWUSER | CLONE_FILES), EPERM);
    assert.is(call(arch, nr(arch, 'unshare'), CLONE_NEWTIME), EPERM);
    for (const flag of [0x20000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
      assert.is(call(arch, nr(arch, 'unshare'), flag), EPERM, flag.toString(16));
      assert.is(call(arch, nr(arch, 'clone'), flag | SIGCHLD), EPERM, flag.toString(16));
    }
  });

  test(`${arch}: clone3 gets ENOSYS, so that libc falls back to clone`, () => {
    assert.is(call(arch, nr(arch, 'clone3')), ENOSYS);
  });

  test(`${arch}: another ABI kills the process`, () => {
    assert.is(call(arch, nr(arch, 'getpid'), 0, AUDIT_ARCH_I386), KILL_PROCESS);
    assert.is(call(arch, nr(arch, 'getpid'), 0, AUDIT_ARCH[arch === 'x86_64' ? 'aarch64' : 'x86_64']), KILL_PROCESS);
  });

  test(`${arch}: the program is whole instructions, fewer than 4096, and its hex is its bytes`, () => {
    const program = defaultSeccompFilter(arch);
    assert.is(program.length % 8, 0);
    assert.ok(program.length / 8 < 4096);
    const hex = seccompArg(arch);
    assert.match(hex, /^(?:[0-9a-f]{2})+$/);
    assert.equal(Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16)), program);
  });
}

test('x86_64: x32 calls get EPERM (they would bypass the numbers)', () => {
  const X32 = 0x40000000;
  assert.is(call('x86_64', X32 | nr('x86_64', 'getpid')), EPERM);
  assert.is(call('x86_64', X32 | nr('x86_64', 'mount')), EPERM);
});

test('aarch64: the numbers of x86_64-only calls are other calls there', () => {
  assert.is(call('aarch64', 172), ALLOW); // getpid, iopl on x86_64
  assert.is(call('aarch64', 173), ALLOW); // getppid, ioperm on x86_64
});

test.run();
