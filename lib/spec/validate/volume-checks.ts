// Strict checks of spec.volumes. The volumes' names are found beforehand
// (locate), so that the containers' mounts can be checked against them.
import { get } from '../json.ts';
import { objectItems, type Pod } from './locate.ts';
import type { Report } from './report.ts';
import {
  backstepErrors, checkObjectList, optionalObject, optionalOneOf, quantity, requiredString, uniqueLabels,
} from './rules.ts';

/** Every source of Kubernetes' VolumeSource, in the order validateVolumeSource looks at them. */
export const VOLUME_SOURCES = [
  'emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'flocker', 'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc',
  'flexVolume', 'configMap', 'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk',
  'storageos', 'projected', 'scaleIO', 'csi', 'ephemeral', 'image',
] as const;

/** The sources minipod provides. Any other is an error, not a warning: the container would miss files it expects. */
export const PROVIDED_VOLUME_SOURCES = ['emptyDir', 'hostPath'];

/** Kubernetes' supportedHostPathTypes as sets.List prints them: sorted. */
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

export function volumesAreListed({ spec }: Pod, r: Report): void {
  if (spec) checkObjectList(r, 'spec.volumes', get(spec, 'volumes'));
}

export function volumeSourcesAreProvided({ spec }: Pod, r: Report): void {
  for (const { path, item: volume } of objectItems('spec.volumes', spec && get(spec, 'volumes'))) {
    const [source, ...extra] = VOLUME_SOURCES.filter((key) => get(volume, key) !== undefined);
    if (source === undefined) {
      r.required(path, 'must specify a volume type');
      continue;
    }
    const value = get(volume, source);
    if (source === 'emptyDir') emptyDirIsValid(r, `${path}.emptyDir`, value);
    else if (source === 'hostPath') hostPathIsValid(r, `${path}.hostPath`, value);
    else r.unsupported(`${path}.${source}`, source, PROVIDED_VOLUME_SOURCES);
    for (const key of extra) r.forbidden(`${path}.${key}`, 'may not specify more than 1 volume type');
  }
}

function emptyDirIsValid(r: Report, field: string, value: unknown): void {
  const emptyDir = optionalObject(r, field, value);
  if (!emptyDir) return;
  // Kubernetes also has HugePages media; minipod mounts a tmpfs or nothing.
  optionalOneOf(r, `${field}.medium`, get(emptyDir, 'medium'), ['', 'Memory']);
  const sizeLimit = get(emptyDir, 'sizeLimit');
  if (sizeLimit !== undefined && quantity(r, `${field}.sizeLimit`, sizeLimit)?.sign() === -1) {
    r.forbidden(`${field}.sizeLimit`, 'SizeLimit field must be a valid resource quantity');
  }
}

function hostPathIsValid(r: Report, field: string, value: unknown): void {
  const hostPath = optionalObject(r, field, value);
  if (!hostPath) return;
  const path = get(hostPath, 'path');
  if (requiredString(r, `${field}.path`, path)) {
    // minipod's own rule: a relative path would be relative to wherever minipod happens to run.
    if (!path.startsWith('/')) r.invalid(`${field}.path`, path, 'must be an absolute path');
    for (const msg of backstepErrors(path)) r.invalid(`${field}.path`, path, msg);
  }
  optionalOneOf(r, `${field}.type`, get(hostPath, 'type'), HOST_PATH_TYPES);
}

export function volumeNamesAreUniqueLabels({ spec }: Pod, r: Report): void {
  const volumes = objectItems('spec.volumes', spec && get(spec, 'volumes'));
  uniqueLabels(r, volumes.map(({ path, item: volume }) => ({ path, name: get(volume, 'name') })));
}
