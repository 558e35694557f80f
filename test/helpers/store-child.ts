// A second process using the same image store, for the tests of what
// concurrent processes do to it:
//   store-child.ts DIR commit PREFIX COUNT   an image with the shared base layer and one of its own,
//                                            committed COUNT times under docker.io/library/PREFIX-<i>:latest
//   store-child.ts DIR ingest-stall          an ingest that writes one chunk, says "started", then waits to be killed
import { ImageStore } from '../../lib/image/store.ts';
import { openHost } from '../../lib/sys/host.ts';
import { BASE_ENTRIES, imageOf, layerOf, putImage, sha256, testUnpack } from './images.ts';

const [dir, command, ...args] = process.argv.slice(2);
const { libc } = await openHost();
const store = new ImageStore(dir!, { libc, unpack: testUnpack });

if (command === 'commit') {
  const [prefix, count] = args as [string, string];
  const image = imageOf([await layerOf(BASE_ENTRIES), await layerOf([`${prefix}/file`])]);
  await store.withHold(async (protect) => {
    await protect([image.manifestDigest, image.configDigest, ...image.layers.flatMap((l) => [l.digest, l.diffID])]);
    await putImage(store, image);
    for (let i = 0; i < Number(count); i++) await store.commitImage({ names: [`docker.io/library/${prefix}-${i}:latest`], manifestDigest: image.manifestDigest });
  });
  console.log(image.manifestDigest);
} else if (command === 'ingest-stall') {
  const blob = Buffer.alloc(1 << 20, 7);
  await store.content.ingest({ digest: sha256(blob), size: blob.length }, (async function* () {
    yield blob.subarray(0, 4096);
    console.log('started');
    await new Promise(() => setTimeout(() => {}, 1 << 30));
  })());
} else {
  throw new Error(`store-child: unknown command ${command}`);
}
