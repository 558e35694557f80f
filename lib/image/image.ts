// Images as minipod stores them: a directory per image holding `rootfs/`
// and, optionally, an OCI image `config.json`; and the part of an image
// config minipod reads, the same for these and for the store's images.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MinipodError, wrapError } from '../errors.ts';
import { isObject, isStringArray } from '../spec/json.ts';
import type { PodManifest } from '../spec/manifest.ts';
import { canonicalName, parseReference, type Reference } from './reference.ts';

export interface ImageLocation {
  /** Absolute directory of the manifest file: relative image paths start there. */
  manifestDir: string;
  /** The image store: its pulled and loaded images, and one `<name>/rootfs/` (+ optional `<name>/config.json`) per directory image. */
  imagesDir: string;
}

/** The part of an OCI image config minipod reads. */
export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  /** The keys of ExposedPorts: "80/tcp", "53/udp". */
  ExposedPorts?: string[];
  /** The keys of Volumes: the paths the image wants as volumes. */
  Volumes?: string[];
  StopSignal?: string;
}

/** An image as a container runs it. */
export interface ResolvedImage {
  /** Layer directories, bottom first. */
  layers: string[];
  config: ImageConfig;
  /** containerStatuses[].imageID: `repository@manifest-digest` for an image of the store, '' for a directory. */
  imageID: string;
}

/** What planning reads of the store: the image a canonical name designates, if present. */
export interface StoreImages {
  lookup(name: string): { layers: string[]; config: ImageConfig; manifestDigest: string } | null;
}

// A directory image's name: lower-case path components, an optional tag.
// No component can be '.' or '..', so a name never leaves the store.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*(?::\\w[\\w.-]{0,127})?$`);

export const isPathImage = (image: string) => /^\.{0,2}\//.test(image);

/** Every container's image, init containers first, with the field that names it. */
export function podImages(pod: PodManifest) {
  return [
    ...(pod.spec.initContainers ?? []).map((c, i) => ({ image: c.image, imagePullPolicy: c.imagePullPolicy, field: `spec.initContainers[${i}].image` })),
    ...pod.spec.containers.map((c, i) => ({ image: c.image, imagePullPolicy: c.imagePullPolicy, field: `spec.containers[${i}].image` })),
  ];
}

/** Whether any container's image is one of the store's (pulled or loaded), not a path or a directory image. */
export function usesStore(pod: PodManifest, imagesDir: string): boolean {
  return podImages(pod).some(({ image }) => !isPathImage(image) && !directoryImage(image, imagesDir));
}

/**
 * A directory image of the store, `<imagesDir>/<name>/rootfs` (what `make`
 * builds for busybox), one directory per name as written, except that
 * `:latest` is the untagged name; null when there is none. Such an image is
 * local: it is never pulled, whatever the pull policy, as podman treats its
 * `localhost/` images.
 */
export function directoryImage(image: string, imagesDir: string): string | null {
  if (!IMAGE_NAME.test(image)) return null;
  // resolve, not join: the plan promises absolute paths whatever imagesDir is.
  const dir = resolve(imagesDir, image.replace(/:latest$/, ''));
  return isDirectory(join(dir, 'rootfs')) ? dir : null;
}

/**
 * `/x`, `./x` and `../x` name a root filesystem directory (relative to the
 * manifest), with no image config; a directory image of the store comes
 * next; anything else is a reference to an image pulled or loaded into the
 * store (`redis:7` is docker.io/library/redis:7).
 */
export function resolveImage(image: string, field: string, opts: ImageLocation, store: StoreImages | null): ResolvedImage {
  if (isPathImage(image)) {
    const rootfs = resolve(opts.manifestDir, image);
    if (!isDirectory(rootfs)) throw new MinipodError(`${field}: image "${image}" not found (looked in ${rootfs})`);
    return { layers: [rootfs], config: {}, imageID: '' };
  }
  const dir = directoryImage(image, opts.imagesDir);
  if (dir) {
    return { layers: [join(dir, 'rootfs')], config: readImageConfig(join(dir, 'config.json'), `${field}: image "${image}"`), imageID: '' };
  }
  let ref: Reference;
  try {
    ref = parseReference(image);
  } catch (err) {
    throw wrapError(field, err);
  }
  const found = store?.lookup(canonicalName(ref));
  if (!found) {
    throw new MinipodError(`${field}: image "${image}" is not in the image store ${opts.imagesDir} (minipod pull ${image}; the busybox image: make)`);
  }
  return { layers: found.layers, config: found.config, imageID: `${ref.domain}/${ref.path}@${found.manifestDigest}` };
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function readImageConfig(file: string, context: string): ImageConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw wrapError(`${context}: read ${file}`, err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw wrapError(`${context}: ${file}`, err);
  }
  return parseImageConfig(parsed, `${context}: ${file}`);
}

/**
 * The `config` member of an OCI (or Docker) image config, already decoded
 * from JSON; `context` starts every error message.
 */
export function parseImageConfig(parsed: unknown, context: string): ImageConfig {
  const config = isObject(parsed) && isObject(parsed.config) ? parsed.config : {};
  // Docker writes `null` for unset fields.
  const field = <T>(key: string, ok: (v: unknown) => v is T, type: string): T | undefined => {
    const value = config[key] ?? undefined;
    if (value === undefined || ok(value)) return value;
    throw new MinipodError(`${context}: config.${key} must be ${type}`);
  };
  const keys = (key: string) => {
    const set = field(key, isKeySet, 'an object whose values are objects');
    return set && Object.keys(set);
  };
  return {
    Entrypoint: field('Entrypoint', isStringArray, 'an array of strings'),
    Cmd: field('Cmd', isStringArray, 'an array of strings'),
    Env: field('Env', isStringArray, 'an array of strings'),
    WorkingDir: field('WorkingDir', isString, 'a string'),
    User: field('User', isString, 'a string'),
    ExposedPorts: keys('ExposedPorts'),
    Volumes: keys('Volumes'),
    StopSignal: field('StopSignal', isString, 'a string'),
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';
// Go's encoding of a set, map[string]struct{}: {"80/tcp": {}}.
const isKeySet = (v: unknown): v is Record<string, object> => isObject(v) && Object.values(v).every(isObject);
