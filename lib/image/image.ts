// Images as minipod stores them: a directory per image holding `rootfs/`
// and, optionally, an OCI image `config.json`; and the part of an image
// config minipod reads, the same for these and for the store's images.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MinipodError, wrapError } from '../errors.ts';
import { isObject, isStringArray } from '../spec/json.ts';

export interface ImageLocation {
  /** Absolute directory of the manifest file: relative image paths start there. */
  manifestDir: string;
  /** The image store: one `<name>/rootfs/` (+ optional `<name>/config.json`) per image. */
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

// A Docker-style name: lower-case path components, an optional tag. Neither
// a registry port nor a digest: the store is a directory, not a registry. No
// component can be '.' or '..', so a name never leaves the store.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*(?::\\w[\\w.-]{0,127})?$`);

/**
 * `/x`, `./x` and `../x` name a root filesystem directory (relative to the
 * manifest), with no image config. Anything else names an image in the store,
 * one directory per name as written: `busybox:1.36` is `<imagesDir>/busybox:1.36/`,
 * except that `:latest` is the untagged name, so `busybox:latest` and `busybox`
 * are both `<imagesDir>/busybox/`.
 */
export function resolveImage(image: string, field: string, opts: ImageLocation): { rootfs: string; config: ImageConfig } {
  if (/^\.{0,2}\//.test(image)) {
    const rootfs = resolve(opts.manifestDir, image);
    if (!isDirectory(rootfs)) throw new MinipodError(`${field}: image "${image}" not found (looked in ${rootfs})`);
    return { rootfs, config: {} };
  }
  if (!IMAGE_NAME.test(image)) {
    throw new MinipodError(`${field}: image "${image}" is not a path (/..., ./..., ../...) nor an image name (name[:tag])`);
  }
  // resolve, not join: the plan promises absolute paths whatever imagesDir is.
  const dir = resolve(opts.imagesDir, image.replace(/:latest$/, ''));
  const rootfs = join(dir, 'rootfs');
  if (!isDirectory(rootfs)) {
    throw new MinipodError(`${field}: image "${image}" not found (looked in ${rootfs}; run make to build the busybox image)`);
  }
  return { rootfs, config: readImageConfig(join(dir, 'config.json'), `${field}: image "${image}"`) };
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
