import { newPodUid, nodeInfo } from '../lib/host/node-info.ts';
import { loadManifest } from '../lib/spec/load.ts';
import { isObject } from '../lib/spec/json.ts';
import { planPod } from '../lib/spec/plan.ts';
import type { PodPlan } from '../lib/spec/plan-types.ts';
import { parsePod } from '../lib/spec/validate.ts';

/**
 * File to plan, for every verb that takes a manifest: warnings go to stderr
 * (unless `quiet`: the shared supervisor plans again what the CLI checked),
 * errors throw (exit 125). `name` overrides metadata.name (run --name).
 */
export async function planFromFile(file: string, imagesDir: string, opts: { name?: string; quiet?: boolean } = {}): Promise<{ plan: PodPlan; manifest: unknown }> {
  const { manifest, dir } = await loadManifest(file);
  if (opts.name !== undefined && isObject(manifest) && isObject(manifest.metadata)) manifest.metadata.name = opts.name;
  const { pod, warnings } = parsePod(manifest);
  if (!opts.quiet) for (const warning of warnings) process.stderr.write(`minipod: warning: ${warning}\n`);
  return { plan: planPod(pod, { manifestDir: dir, imagesDir, uid: newPodUid(), node: nodeInfo() }), manifest };
}
