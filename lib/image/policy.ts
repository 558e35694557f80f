// When the kubelet pulls an image: imagePullPolicy, and its default.
import { MinipodError } from '../errors.ts';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/**
 * The API server's default (SetDefaults_Container): Always for `:latest` or
 * no tag at all, IfNotPresent otherwise, a digest counting as a tag.
 */
export function defaultPullPolicy(ref: { tag?: string; digest?: string }): PullPolicy {
  if (ref.digest) return 'IfNotPresent';
  return ref.tag === undefined || ref.tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Whether to ask the registry, given what the store holds. */
export function mustPull(policy: PullPolicy, present: boolean, image: string): boolean {
  if (policy === 'Always') return true;
  if (present) return false;
  if (policy === 'Never') throw new ImagePullError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
  return true;
}

/** A container whose image could not be had, with the kubelet's reason (ErrImagePull, ErrImageNeverPull, ImagePullBackOff). */
export class ImagePullError extends MinipodError {
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'ImagePullBackOff',
    readonly detail: string,
    options: { cause?: unknown; field?: string } = {},
  ) {
    super(`${options.field ? `${options.field}: ` : ''}${reason}: ${detail}`, options.cause === undefined ? {} : { cause: options.cause });
  }

  /** The same, said of the manifest's field (`spec.containers[0].image`). */
  of(field: string): ImagePullError {
    return new ImagePullError(this.reason, this.detail, { field, cause: this.cause });
  }
}
