import { MinipodError } from '../errors.ts';

/**
 * A layer minipod will not unpack, or could not: one line naming the
 * entry and the rule it breaks. The caller deletes what was unpacked.
 */
export class LayerError extends MinipodError {}

/** `layer entry "../../etc/x": path leaves the layer`; the name is quoted as JSON, so even a newline in it stays on the line. */
export function entryError(name: string, rule: string, cause?: unknown): LayerError {
  return new LayerError(`layer entry ${JSON.stringify(name)}: ${rule}`, cause === undefined ? {} : { cause });
}
