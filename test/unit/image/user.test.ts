import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinipodError } from '../../../lib/errors.ts';
import { nonRootViolation, resolveUser, type UserRequest } from '../../../lib/image/user.ts';
import type { UserPlan } from '../../../lib/spec/plan-types.ts';

// <tmp>/image is a rootfs with its own /etc/passwd and /etc/group (comments
// and malformed lines included); <tmp>/empty has neither file.
const tmp = mkdtempSync(join(tmpdir(), 'minipod-user-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const image = join(tmp, 'image');
const empty = join(tmp, 'empty');
mkdirSync(join(image, 'etc'), { recursive: true });
mkdirSync(empty);
writeFileSync(join(image, 'etc', 'passwd'), [
  '# name:password:uid:gid:gecos:home:shell',
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'app:x:1000:1001:App:/home/app:/bin/sh',
  'oddgid:x:1002:abc:Odd:/:/bin/sh',
  'short:x:1003:1003',
  'badid:x:12x:5:Bad:/:/bin/sh',
  '#hidden:x:1004:1004:Hidden:/:/bin/sh',
  '',
].join('\n'));
writeFileSync(join(image, 'etc', 'group'), [
  '# name:password:gid:members',
  'root:x:0:',
  'wheel:x:10:root,app',
  'app:x:1001:',
  'staff:x:50:other,app',
  'video:x:44:other',
  'audio:x:63:app',
  'badid:x:6x:app',
  'short:x:70',
  '#commented:x:80:app',
  'docker:x:999:app,root',
  '',
].join('\n'));

const CTX = 'spec.containers[0]';

const CASES: [string, string, UserRequest, UserPlan][] = [
  ['no user at all: root, with root\'s groups', image, {}, { uid: 0, gid: 0, groups: [0, 10, 999] }],
  ['image User ""', image, { imageUser: '' }, { uid: 0, gid: 0, groups: [0, 10, 999] }],
  ['image User uid', image, { imageUser: '1000' }, { uid: 1000, gid: 1001, groups: [1001, 10, 50, 63, 999] }],
  ['image User name', image, { imageUser: 'app' }, { uid: 1000, gid: 1001, groups: [1001, 10, 50, 63, 999] }],
  ['image User uid not in passwd: gid 0', image, { imageUser: '4242' }, { uid: 4242, gid: 0, groups: [0] }],
  ['image User uid:gid', image, { imageUser: '1000:5' }, { uid: 1000, gid: 5, groups: [5, 10, 50, 63, 999] }],
  ['image User name:group', image, { imageUser: 'app:staff' }, { uid: 1000, gid: 50, groups: [50, 10, 63, 999] }],
  ['image User uid:group', image, { imageUser: '4242:video' }, { uid: 4242, gid: 44, groups: [44] }],
  ['image User name:gid', image, { imageUser: 'daemon:0' }, { uid: 1, gid: 0, groups: [0] }],
  ['image User with a non-numeric gid in passwd: gid 0', image, { imageUser: 'oddgid' }, { uid: 1002, gid: 0, groups: [0] }],
  ['runAsUser: gid from its passwd entry', image, { runAsUser: 1000 }, { uid: 1000, gid: 1001, groups: [1001, 10, 50, 63, 999] }],
  ['runAsUser not in passwd: gid 0', image, { runAsUser: 4242 }, { uid: 4242, gid: 0, groups: [0] }],
  ['runAsUser 0', image, { runAsUser: 0 }, { uid: 0, gid: 0, groups: [0, 10, 999] }],
  ['runAsUser wins over the image User', image, { runAsUser: 1, imageUser: 'app:staff' }, { uid: 1, gid: 1, groups: [1] }],
  ['runAsGroup overrides the passwd gid', image, { runAsUser: 1000, runAsGroup: 7 }, { uid: 1000, gid: 7, groups: [7, 10, 50, 63, 999] }],
  ['runAsGroup overrides the image group', image, { runAsGroup: 3, imageUser: 'app:staff' }, { uid: 1000, gid: 3, groups: [3, 10, 50, 63, 999] }],
  ['runAsGroup alone', image, { runAsGroup: 3 }, { uid: 0, gid: 3, groups: [3, 10, 999] }],
  [
    'supplementalGroups last, duplicates dropped',
    image,
    { runAsUser: 1000, supplementalGroups: [999, 7, 7, 1001, 8] },
    { uid: 1000, gid: 1001, groups: [1001, 10, 50, 63, 999, 7, 8] },
  ],
  ['supplementalGroups with root', image, { supplementalGroups: [0, 5] }, { uid: 0, gid: 0, groups: [0, 10, 999, 5] }],
  ['no /etc/passwd: root', empty, {}, { uid: 0, gid: 0, groups: [0] }],
  ['no /etc/passwd: uid:gid', empty, { imageUser: '1000:1000' }, { uid: 1000, gid: 1000, groups: [1000] }],
  ['no /etc/passwd: runAsUser', empty, { runAsUser: 5, supplementalGroups: [6] }, { uid: 5, gid: 0, groups: [0, 6] }],
];
for (const [name, rootfs, req, expected] of CASES) {
  test(`resolveUser: ${name}`, () => {
    assert.equal(resolveUser([rootfs], req, CTX), expected);
  });
}

const ERROR_CASES: [string, string, string][] = [
  ['unknown', image, 'spec.containers[0]: image user "unknown": no such user in the image\'s /etc/passwd'],
  ['short', image, 'spec.containers[0]: image user "short": no such user in the image\'s /etc/passwd'],
  ['badid', image, 'spec.containers[0]: image user "badid": no such user in the image\'s /etc/passwd'],
  ['hidden', image, 'spec.containers[0]: image user "hidden": no such user in the image\'s /etc/passwd'],
  ['app', empty, 'spec.containers[0]: image user "app": no such user in the image\'s /etc/passwd'],
  ['unknown:staff', image, 'spec.containers[0]: image user "unknown": no such user in the image\'s /etc/passwd'],
  ['app:nogroup', image, 'spec.containers[0]: image group "nogroup": no such group in the image\'s /etc/group'],
  ['1000:badid', image, 'spec.containers[0]: image group "badid": no such group in the image\'s /etc/group'],
  ['1000:short', image, 'spec.containers[0]: image group "short": no such group in the image\'s /etc/group'],
  ['1000:commented', image, 'spec.containers[0]: image group "commented": no such group in the image\'s /etc/group'],
  ['1000:app', empty, 'spec.containers[0]: image group "app": no such group in the image\'s /etc/group'],
];
for (const [imageUser, rootfs, message] of ERROR_CASES) {
  test(`resolveUser error: ${JSON.stringify(imageUser)}${rootfs === empty ? ' without /etc files' : ''}`, () => {
    assert.throws(() => resolveUser([rootfs], { imageUser }, CTX), (err: Error) => err instanceof MinipodError && err.message === message);
  });
}

test('resolveUser: runAsUser means the image User is never looked up', () => {
  assert.equal(resolveUser([image], { runAsUser: 1000, imageUser: 'unknown:nogroup' }, CTX), { uid: 1000, gid: 1001, groups: [1001, 10, 50, 63, 999] });
});

test('resolveUser: the files are the image\'s own, even through an absolute symlink', () => {
  const linked = join(tmp, 'linked');
  mkdirSync(join(linked, 'etc'), { recursive: true });
  mkdirSync(join(linked, 'data'));
  writeFileSync(join(linked, 'data', 'passwd'), 'svc:x:77:78::/:/bin/sh\n');
  writeFileSync(join(linked, 'data', 'group'), 'extra:x:79:svc\n');
  symlinkSync('/data/passwd', join(linked, 'etc', 'passwd'));
  symlinkSync('../../../data/group', join(linked, 'etc', 'group'));
  assert.equal(resolveUser([linked], { imageUser: 'svc' }, CTX), { uid: 77, gid: 78, groups: [78, 79] });
});

test('resolveUser: in a layered image, the topmost layer\'s /etc/passwd wins and a lower /etc/group shows through', () => {
  const lower = join(tmp, 'layers', 'lower');
  const upper = join(tmp, 'layers', 'upper');
  mkdirSync(join(lower, 'etc'), { recursive: true });
  mkdirSync(join(upper, 'etc'), { recursive: true });
  writeFileSync(join(lower, 'etc', 'passwd'), 'svc:x:10:10::/:/bin/sh\n');
  writeFileSync(join(lower, 'etc', 'group'), 'svc:x:10:\nextra:x:12:svc\n');
  writeFileSync(join(upper, 'etc', 'passwd'), 'svc:x:20:21::/:/bin/sh\n');
  assert.equal(resolveUser([lower, upper], { imageUser: 'svc' }, CTX), { uid: 20, gid: 21, groups: [21, 12] });
  assert.equal(resolveUser([lower], { imageUser: 'svc' }, CTX), { uid: 10, gid: 10, groups: [10, 12] });
});

const NON_ROOT_CASES: [string, UserRequest, string | null][] = [
  ['runAsUser 0', { runAsUser: 0 }, "container's runAsUser breaks non-root policy"],
  ['runAsUser 0 over a non-root image User', { runAsUser: 0, imageUser: '1000' }, "container's runAsUser breaks non-root policy"],
  ['runAsUser 1000', { runAsUser: 1000 }, null],
  ['runAsUser 1000 over a named image User', { runAsUser: 1000, imageUser: 'app' }, null],
  ['runAsUser 1000 over a root image User', { runAsUser: 1000, imageUser: '0' }, null],
  ['no user', {}, 'container has runAsNonRoot and image will run as root'],
  ['image User ""', { imageUser: '' }, 'container has runAsNonRoot and image will run as root'],
  ['image User "0"', { imageUser: '0' }, 'container has runAsNonRoot and image will run as root'],
  ['image User "0:1000"', { imageUser: '0:1000' }, 'container has runAsNonRoot and image will run as root'],
  ['image User "1000"', { imageUser: '1000' }, null],
  ['image User "1000:0"', { imageUser: '1000:0' }, null],
  ['image User "app"', { imageUser: 'app' }, 'container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root'],
  ['image User "root"', { imageUser: 'root' }, 'container has runAsNonRoot and image has non-numeric user (root), cannot verify user is non-root'],
  ['image User "app:0"', { imageUser: 'app:0' }, 'container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root'],
  ['runAsGroup alone does not help', { runAsGroup: 1000 }, 'container has runAsNonRoot and image will run as root'],
];
for (const [name, req, expected] of NON_ROOT_CASES) {
  test(`nonRootViolation: ${name}`, () => {
    assert.is(nonRootViolation(req, resolveUser([image], req, CTX)), expected);
  });
}

test.run();
