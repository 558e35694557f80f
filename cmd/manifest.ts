import { newPodUid, nodeInfo } from '../lib/host/node-info.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { usesStore } from '../lib/image/image.ts';
import { ImagePullError } from '../lib/image/policy.ts';
import type { PullOptions } from '../lib/image/pull.ts';
import type { ImageStore } from '../lib/image/store.ts';
import type { PodManifest } from '../lib/spec/manifest.ts';
import { loadManifest } from '../lib/spec/load.ts';
import { isObject } from '../lib/spec/json.ts';
import { planPod } from '../lib/spec/plan.ts';
import type { PodPlan } from '../lib/spec/plan-types.ts';
import { parsePod } from '../lib/spec/validate.ts';

export interface PullStep extends PullOptions {
  /** The first wait before a failed pull is tried again (ImagePullBackOff); none: a failed pull fails the run at once. */
  backoffSeconds?: number;
}

/** The kubelet's image pull backoff doubles up to this, as its restart backoff does. */
const MAX_BACKOFF_SECONDS = 300;

/**
 * As the kubelet does, a pod whose containers may restart waits for its
 * images: a failed pull is tried again after a backoff (ImagePullBackOff),
 * until it succeeds or the user stops it. A pod that never restarts
 * (restartPolicy Never) fails with the first ErrImagePull.
 */
async function pullWithBackoff(pod: PodManifest, store: ImageStore, pull: PullStep): Promise<void> {
  for (let delay = pull.backoffSeconds; ; delay = Math.min(delay! * 2, MAX_BACKOFF_SECONDS)) {
    try {
      return await (await import('../lib/image/ensure.ts')).ensureImages(pod, store, pull);
    } catch (err) {
      const retry = err instanceof ImagePullError && err.reason === 'ErrImagePull' && pod.spec.restartPolicy !== 'Never';
      if (!retry || delay === undefined) throw err;
      process.stderr.write(`minipod: ${err.message}\nminipod: ImagePullBackOff: Back-off pulling image: trying again in ${delay}s (Ctrl-C stops)\n`);
      await sleep(delay * 1000);
    }
  }
}

/**
 * File to plan, for every verb that takes a manifest: warnings go to stderr
 * (unless `quiet`: the shared supervisor plans again what the CLI checked),
 * errors throw (exit 125). `name` overrides metadata.name (run --name).
 * With `pull`, images are pulled first as their pull policies say (run);
 * without, they must be in the store already (validate, and the shared
 * supervisor, which plans what the CLI has pulled).
 */
export async function planFromFile(
  file: string,
  imagesDir: string,
  opts: { name?: string; quiet?: boolean; pull?: PullStep } = {},
): Promise<{ plan: PodPlan; manifest: unknown; leases: ImageStore | null }> {
  const { manifest, dir } = await loadManifest(file);
  if (opts.name !== undefined && isObject(manifest) && isObject(manifest.metadata)) manifest.metadata.name = opts.name;
  const { pod, warnings } = parsePod(manifest);
  if (!opts.quiet) for (const warning of warnings) process.stderr.write(`minipod: warning: ${warning}\n`);
  // Only a manifest naming pulled or loaded images loads the store's code and opens it (and the libc its lock needs).
  const store = usesStore(pod, imagesDir) ? await (await import('../lib/image/open.ts')).openImageStore(imagesDir) : null;
  if (store && opts.pull) await pullWithBackoff(pod, store, opts.pull);
  return { plan: planPod(pod, { manifestDir: dir, imagesDir, store, uid: newPodUid(), node: nodeInfo() }), manifest, leases: store };
}
