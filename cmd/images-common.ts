// What the image verbs (pull, load) and run share: the options of a pull.
import { hostPlatform, parsePlatform } from '../lib/image/platform.ts';
import type { PullOptions } from '../lib/image/pull.ts';
import { parseQuantity } from '../lib/spec/quantity.ts';
import { MinipodError } from '../lib/errors.ts';
import type { VerbArgs } from './verb.ts';

export const IMAGE_PULL_OPTIONS = {
  platform: { type: 'string' },
  'tls-verify': { type: 'string' },
  'max-unpacked-size': { type: 'string' },
} as const;

/**
 * A layer may unpack to at most this much (issue #11's decompression bomb
 * bound): 16 GiB, more than any image the Docker Hub's top images unpack
 * to (their largest layers are a few GiB), far less than a bomb's.
 */
export const DEFAULT_MAX_UNPACKED = '16Gi';

/** What a pull is given but its progress display. */
export type PullSettings = Omit<PullOptions, 'progress'>;

export function pullSettings(values: VerbArgs['values']): PullSettings {
  const platform = typeof values.platform === 'string' ? parsePlatform(values.platform) : hostPlatform();
  const tls = values['tls-verify'];
  if (tls !== undefined && tls !== 'true' && tls !== 'false') {
    throw new MinipodError(`--tls-verify: Invalid value: ${JSON.stringify(tls)}: must be true or false`);
  }
  return { platform, tlsVerify: tls !== 'false', env: process.env, maxUnpackedSize: byteSize(values['max-unpacked-size'] ?? DEFAULT_MAX_UNPACKED) };
}

function byteSize(value: VerbArgs['values'][string]): number {
  try {
    if (typeof value !== 'string') throw new Error('must be a quantity');
    const bytes = Number(parseQuantity(value).value());
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error('must be a positive number of bytes');
    return bytes;
  } catch (err) {
    throw new MinipodError(`--max-unpacked-size: Invalid value: ${JSON.stringify(value)}: ${(err as Error).message} (such as 512Mi, 16Gi)`);
  }
}
