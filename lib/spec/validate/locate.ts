// The manifest as the checks see it: its parts found once, so that each check
// reads only what it looks at.
import { get, isObject, type Obj } from '../json.ts';
import type { Report } from './report.ts';

interface ContainerRef {
  /** `spec.containers[0]` or `spec.initContainers[0]`. */
  path: string;
  container: Obj;
  init: boolean;
}

/** The parts of the manifest the checks look at, found once; a part of the wrong type is left out (its own check reports it). */
export interface Pod {
  root: Obj;
  /** {} when absent: the name check then reports what is missing. */
  metadata?: Obj;
  spec?: Obj;
  /** The app containers, then the init containers, in the order Kubernetes validates them: every per-container check walks both. */
  containers: ContainerRef[];
  /** The names spec.volumes declares; undefined when spec.volumes is not a list, so that mounts are not looked up in it. */
  volumes?: ReadonlySet<string>;
}

export function locate(root: Obj): Pod {
  const metadata = get(root, 'metadata') ?? {};
  const rawSpec = get(root, 'spec');
  const spec = isObject(rawSpec) ? rawSpec : undefined;
  const listed = (key: string, init: boolean): ContainerRef[] =>
    objectItems(`spec.${key}`, spec && get(spec, key)).map(({ path, item }) => ({ path, container: item, init }));
  return {
    root,
    metadata: isObject(metadata) ? metadata : undefined,
    spec,
    containers: [...listed('containers', false), ...listed('initContainers', true)],
    volumes: declaredVolumes(spec && get(spec, 'volumes')),
  };
}

// Kubernetes knows only the volumes that passed validation, so mounting a
// volume with a bad source also reports the mount `Not found`; here a volume
// is declared once it has a name, and its own errors say what is wrong.
function declaredVolumes(volumes: unknown): ReadonlySet<string> | undefined {
  if (volumes !== undefined && !Array.isArray(volumes)) return undefined;
  const names = objectItems('', volumes).map(({ item }) => get(item, 'name'));
  return new Set(names.filter((name): name is string => typeof name === 'string'));
}

/** The items of a list that are objects, with their paths; the check that owns the list reports the rest (rules.ts, checkObjectList). */
export function objectItems(field: string, list: unknown): { path: string; item: Obj }[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown, i) => (isObject(item) ? [{ path: `${field}[${i}]`, item }] : []));
}

export type Check = (pod: Pod, report: Report) => void;
