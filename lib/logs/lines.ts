import { Buffer } from 'node:buffer';

/**
 * Calls `onLine` for each line of `stream` as soon as it is complete, and
 * for an unterminated last line when the stream ends: a container's output
 * is shown as it wrote it, one line at a time, never merged. A line that
 * grows past `maxBytes` without its newline is handed on in pieces of at
 * most `maxBytes` (never inside a character), marked partial, as containerd
 * does: one container writing without newlines cannot make the supervisor
 * that all pods share hold it all in memory.
 */
export async function forEachLine(
  stream: AsyncIterable<Uint8Array>,
  maxBytes: number,
  onLine: OnLine,
): Promise<void> {
  const decoder = new TextDecoder();
  let partial = '';
  for await (const chunk of stream) {
    const lines = (partial + decoder.decode(chunk, { stream: true })).split('\n');
    partial = lines.pop()!;
    const waits: Promise<void>[] = [];
    const hand = (line: string, isPartial: boolean) => {
      const wait = onLine(line, isPartial);
      if (wait) waits.push(wait);
    };
    for (const line of lines) hand(line, false);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: a shorter line needs no measuring.
    if (partial.length > maxBytes / 3 && Buffer.byteLength(partial) > maxBytes) partial = emitPieces(partial, maxBytes, hand);
    // Not read on until the consumer is ready: the writer then waits, as it would on a slow terminal.
    if (waits.length) await Promise.all(waits);
  }
  partial += decoder.decode();
  if (partial) await onLine(partial, false);
}

/** A line (or a partial piece); a promise when the consumer wants no more until it settles. */
export type OnLine = (line: string, partial: boolean) => void | Promise<void>;

/** Hands on whole pieces of `maxBytes` and returns what is left, shorter than that. */
function emitPieces(text: string, maxBytes: number, hand: (line: string, partial: boolean) => void): string {
  const bytes = Buffer.from(text);
  let start = 0;
  while (bytes.length - start > maxBytes) {
    const end = pieceEnd(bytes, start, maxBytes);
    hand(bytes.subarray(start, end).toString(), true);
    start = end;
  }
  return bytes.subarray(start).toString();
}

/** Where a piece of at most `maxBytes` from `start` ends: the end of `bytes`, or moved back to the start of a character. */
export function pieceEnd(bytes: Uint8Array, start: number, maxBytes: number): number {
  let end = start + maxBytes;
  if (end >= bytes.length) return bytes.length;
  while ((bytes[end]! & 0xc0) === 0x80) end--; // 10xxxxxx: inside a character
  return end;
}
