import { readFileSync } from 'node:fs';
import type { CgroupFactory } from '../supervisor/pod.ts';
import { detectCgroups } from './detect.ts';
import { CgroupFs } from './fs.ts';
import { type CgroupOptions, createPodCgroups } from './pod-cgroups.ts';

/** This machine's cgroups, found once per run, as the factory the supervisor makes each pod's cgroups with. */
export function openCgroups(options: CgroupOptions): CgroupFactory {
  const fs = new CgroupFs();
  const layout = detectCgroups(
    readFileSync('/proc/self/mountinfo', 'utf8'),
    readFileSync('/proc/self/cgroup', 'utf8'),
    (dir) => fs.read(`${dir}/cgroup.controllers`),
  );
  return (podId, pod, record) => createPodCgroups(fs, layout, podId, pod, options, record);
}
