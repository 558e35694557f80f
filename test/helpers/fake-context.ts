import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContext } from '../../lib/context.ts';
import { capabilityMask } from '../../lib/security/capabilities.ts';
import type { ContainerPlan } from '../../lib/spec/plan-types.ts';
import { fakeHost } from '../../lib/sys/fake.ts';

/** A runtime context over the recording fake; the binaries only need to exist. */
export function fakeContext() {
  const fake = fakeHost();
  const ctx = openContext(fake.host, { pause: '/bin/sh', init: '/bin/sh' });
  fake.libc.calls.length = 0;
  return { ctx, ...fake };
}

/** A throw-away directory with what a rootfs needs for its mount points. */
export function tempRootfs(): { rootfs: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'minipod-test-'));
  const rootfs = join(dir, 'rootfs');
  for (const d of ['proc', 'dev', 'sys']) mkdirSync(join(rootfs, d), { recursive: true });
  return { rootfs, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A container plan with plain defaults (root, no mounts), `fields` applied. */
export function containerPlan(fields: Partial<ContainerPlan> & Pick<ContainerPlan, 'layers'>): ContainerPlan {
  return {
    name: 'app', image: 'busybox', argv: ['true'], env: {}, workingDir: '/',
    user: { uid: 0, gid: 0, groups: [0] }, readOnlyRootFilesystem: false, mounts: [], sidecar: false, stopSignal: 15, imageID: '',
    resources: { memoryLimit: null, cpuLimitMilli: null, cpuRequestMilli: null },
    security: { capabilities: capabilityMask({}), noNewPrivs: true, privileged: false, seccomp: false },
    ...fields,
  };
}
