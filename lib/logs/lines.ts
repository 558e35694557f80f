/**
 * Calls `onLine` for each line of `stream` as soon as it is complete, and
 * for an unterminated last line when the stream ends: a container's output
 * is shown as it wrote it, one line at a time, never split or merged.
 */
export async function forEachLine(stream: AsyncIterable<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let partial = '';
  for await (const chunk of stream) {
    const lines = (partial + decoder.decode(chunk, { stream: true })).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  }
  partial += decoder.decode();
  if (partial) onLine(partial);
}
