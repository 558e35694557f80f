import { newPodUid, nodeInfo } from '../lib/host/node-info.ts';
import { loadManifest } from '../lib/spec/load.ts';
import { planPod } from '../lib/spec/plan.ts';
import type { PodPlan } from '../lib/spec/plan-types.ts';
import { parsePod } from '../lib/spec/validate.ts';

/** File to plan, for every verb that takes a manifest: warnings go to stderr, errors throw (exit 125). */
export async function planFromFile(file: string, imagesDir: string): Promise<PodPlan> {
  const { manifest, dir } = await loadManifest(file);
  const { pod, warnings } = parsePod(manifest);
  for (const warning of warnings) process.stderr.write(`minipod: warning: ${warning}\n`);
  return planPod(pod, { manifestDir: dir, imagesDir, uid: newPodUid(), node: nodeInfo() });
}
