// Before a pod is planned: each container's image made present as the
// kubelet makes it, by its imagePullPolicy (or the API server's default for
// it), each distinct image pulled once.
import { MinipodError } from '../errors.ts';
import type { PodManifest } from '../spec/manifest.ts';
import { directoryImage, isPathImage, podImages } from './image.ts';
import { defaultPullPolicy, ImagePullError, mustPull } from './policy.ts';
import type { PullOptions } from './pull.ts';
import { canonicalName, parseReference } from './reference.ts';
import type { ImageStore } from './store.ts';

/**
 * Pull what the pull policies ask for. A failed pull is an ImagePullError
 * (ErrImagePull) naming the container's field; an absent image under
 * `Never`, ErrImageNeverPull. References that do not parse are left to
 * planning, which names them.
 */
export async function ensureImages(pod: PodManifest, store: ImageStore, opts: PullOptions): Promise<void> {
  const pulled = new Set<string>();
  for (const { image, imagePullPolicy, field } of podImages(pod)) {
    if (isPathImage(image) || directoryImage(image, store.dir)) continue;
    let ref;
    try {
      ref = parseReference(image);
    } catch {
      continue;
    }
    const name = canonicalName(ref);
    if (pulled.has(name)) continue;
    const policy = imagePullPolicy ?? defaultPullPolicy(ref);
    try {
      if (!mustPull(policy, store.lookup(name) !== null, image)) continue;
    } catch (err) {
      throw err instanceof ImagePullError ? err.of(field) : err;
    }
    try {
      // The registry client is loaded only when something is to be pulled: a pod on present images needs none of it.
      await (await import('./pull.ts')).pullImage(store, ref, opts);
    } catch (err) {
      // A bug stays a bug: only what the registry, the network or the layers refused is a failed pull.
      if (!(err instanceof MinipodError)) throw err;
      throw new ImagePullError('ErrImagePull', err.message, { field, cause: err });
    }
    pulled.add(name);
  }
}
