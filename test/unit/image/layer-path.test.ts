import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryRole, layerPath } from '../../../lib/image/layer-path.ts';

const PATHS: [string, string[] | string][] = [
  ['etc/passwd', ['etc', 'passwd']],
  ['./etc/passwd', ['etc', 'passwd']],
  ['././etc//passwd', ['etc', 'passwd']],
  ['etc/', ['etc']],
  ['./', []],
  ['.', []],
  ['a/./b/.', ['a', 'b']],
  ['...', ['...']],
  ['..a/b..', ['..a', 'b..']],
  ['', 'empty name'],
  ['a\0b', 'name contains a NUL byte'],
  ['/etc/passwd', 'absolute name (names in a layer are relative to its root)'],
  ['//etc', 'absolute name (names in a layer are relative to its root)'],
  ['..', 'path leaves the layer'],
  ['../../etc/x', 'path leaves the layer'],
  ['./../x', 'path leaves the layer'],
  ['a/../../x', 'path leaves the layer'],
  ['a/b/../../../x', 'path leaves the layer'],
  ['a/../b', 'name has a ".." component'],
  ['a/b/..', 'name has a ".." component'],
];
for (const [name, expected] of PATHS) {
  test(`layerPath ${JSON.stringify(name)}`, () => {
    assert.equal(layerPath(name), typeof expected === 'string' ? { refused: expected } : { parts: expected });
  });
}

const ROLES: [string[], ReturnType<typeof entryRole>][] = [
  [[], { role: 'root' }],
  [['etc', 'passwd'], { role: 'file', parts: ['etc', 'passwd'] }],
  [['etc', '.wh.passwd'], { role: 'whiteout', parts: ['etc', 'passwd'] }],
  [['.wh.etc'], { role: 'whiteout', parts: ['etc'] }],
  [['.wh..hidden'], { role: 'whiteout', parts: ['.hidden'] }],
  [['etc', '.wh..wh..opq'], { role: 'opaque', parts: ['etc'] }],
  [['.wh..wh..opq'], { role: 'opaque', parts: [] }],
  [['.wh..wh.plnk'], { role: 'aufs' }],
  [['.wh..wh.plnk', '1234.5678'], { role: 'aufs' }],
  [['a', '.wh..wh.aufs'], { role: 'aufs' }],
  [['a', '.wh..wh.orph', 'x'], { role: 'aufs' }],
  [['a', '.wh.'], { refused: 'whiteout of "", which names no file' }],
  [['.wh..'], { refused: 'whiteout of ".", which names no file' }],
  [['.wh...'], { refused: 'whiteout of "..", which names no file' }],
  [['.wh.x', 'y'], { role: 'file', parts: ['.wh.x', 'y'] }],
  [['x.wh.y'], { role: 'file', parts: ['x.wh.y'] }],
];
for (const [parts, expected] of ROLES) {
  test(`entryRole ${JSON.stringify(parts.join('/'))}`, () => {
    assert.equal(entryRole(parts), expected);
  });
}

test.run();
