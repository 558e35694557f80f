// Linux capabilities as Kubernetes names them (securityContext.capabilities
// takes them without the CAP_ prefix), and the set a container gets:
// Docker's default 14, changed by add/drop (ALL included) or privileged,
// the way containerd's CRI plugin computes it.
import { MinipodError } from '../errors.ts';

/** The kernel's numbers (linux/capability.h), up to CAP_CHECKPOINT_RESTORE. */
export const CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
] as const;

/** Docker's (and containerd's) default set. */
export const DEFAULT_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE',
  'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
] as const;

/** `CAP_NET_ADMIN` or `NET_ADMIN` → NET_ADMIN; null for a name the kernel does not have. */
export function capabilityName(name: string): string | null {
  const bare = name.toUpperCase().replace(/^CAP_/, '');
  return (CAPABILITIES as readonly string[]).includes(bare) ? bare : null;
}

const bit = (name: string) => 1n << BigInt(CAPABILITIES.indexOf(name as (typeof CAPABILITIES)[number]));

export interface CapabilityRequest {
  add?: string[];
  drop?: string[];
  privileged?: boolean;
}

/** The set as a bit mask (bit N = capability N), as minipod-init takes it. containerd's order: ALL first, then each add, then each drop. */
export function capabilityMask({ add = [], drop = [], privileged = false }: CapabilityRequest): bigint {
  const all = CAPABILITIES.reduce((mask, name) => mask | bit(name), 0n);
  if (privileged) return all;
  let mask = DEFAULT_CAPABILITIES.reduce((m, name) => m | bit(name), 0n);
  const isAll = (n: string) => n.toUpperCase() === 'ALL';
  if (add.some(isAll)) mask = all;
  if (drop.some(isAll)) mask = 0n;
  for (const name of add.filter((n) => !isAll(n))) mask |= bit(known(name));
  for (const name of drop.filter((n) => !isAll(n))) mask &= ~bit(known(name));
  return mask;
}

function known(name: string): string {
  const found = capabilityName(name);
  if (!found) throw new MinipodError(`unknown capability "${name}"`);
  return found;
}
