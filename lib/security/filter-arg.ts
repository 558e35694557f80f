import { arch } from 'node:process';
import { MinipodError } from '../errors.ts';
import { seccompArg, type SeccompArch } from './seccomp.ts';

const ARCHES: Record<string, SeccompArch> = { x64: 'x86_64', arm64: 'aarch64' };

let cached: string | undefined;

/** The default filter for this machine, as minipod-init's -S takes it: built once per run. */
export function defaultFilterArg(): string {
  const target = ARCHES[arch];
  if (!target) throw new MinipodError(`minipod has no seccomp filter for ${arch}`);
  return (cached ??= seccompArg(target));
}
