// Platforms (os/architecture/variant) and the choice of an image index's
// entry, as containerd's platforms.Only makes it: the exact platform first,
// then the ones this machine also runs, best first:
//   amd64/vN  then amd64/vN-1 ... amd64 (v1), then 386
//   arm64/v8.N then arm64/v8.N-1 ... arm64 (v8 and no variant are the same), then arm/v8 ... arm/v5
//   arm64/v9.N then v9.N-1 ... v9, then v8.N+5 ... (v9.0 branched off v8.5)
//   arm/vN    then arm/vN-1 ... arm/v5
// Entries are compared after containerd's normalisation (x86_64 is amd64,
// aarch64 is arm64, armhf is arm/v7, arm without a variant is arm/v7...).
import { MinipodError } from '../errors.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** What an index lists: a platform, and annotations that may say the entry is not an image. */
export interface PlatformEntry {
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** This machine as an image index names it (from `process.arch`, the same under Node and Deno). */
export function hostPlatform(arch: string = process.arch): Platform {
  switch (arch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    case 'ppc64':
      // Node calls little-endian ppc64 (the only one Linux distributions ship now) ppc64.
      return { os: 'linux', architecture: 'ppc64le' };
    default:
      return { os: 'linux', architecture: arch };
  }
}

const COMPONENT = /^[a-z0-9_-]+$/;
const VARIANT = /^[a-z0-9_.-]+$/;

/** `linux/arm64/v8`, `linux/amd64`: the `--platform` syntax of docker and podman. */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  const [os = '', architecture = '', variant] = parts;
  if (parts.length > 3 || !COMPONENT.test(os) || !COMPONENT.test(architecture) || (variant !== undefined && !VARIANT.test(variant))) {
    throw new MinipodError(`invalid platform "${s}": expected os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** containerd's Normalize: one spelling for each platform, the variant '' when it is the architecture's baseline. */
export function normalizePlatform(p: Platform): Platform {
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  switch (architecture) {
    case 'i386':
      [architecture, variant] = ['386', ''];
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '8' || variant === 'v8') variant = '';
      break;
    case 'armhf':
      [architecture, variant] = ['arm', 'v7'];
      break;
    case 'armel':
      [architecture, variant] = ['arm', 'v6'];
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  const os = p.os.toLowerCase();
  return variant === '' ? { os, architecture } : { os, architecture, variant };
}

/** The platforms `want` runs, best first (containerd's platformVector). */
export function compatiblePlatforms(want: Platform): Platform[] {
  const p = normalizePlatform(want);
  const at = (architecture: string, variant?: string): Platform => normalizePlatform({ os: p.os, architecture, variant });
  const level = (v: string | undefined) => Number(/^v(\d+)$/.exec(v ?? '')?.[1] ?? NaN);
  const out = [p];
  switch (p.architecture) {
    case 'amd64':
      for (let n = level(p.variant) - 1; n >= 1; n--) out.push(at('amd64', `v${n}`));
      out.push(at('386'));
      break;
    case 'arm':
      for (let n = level(p.variant) - 1; n >= 5; n--) out.push(at('arm', `v${n}`));
      break;
    case 'arm64': {
      const version = /^v(\d)(?:\.(\d))?$/.exec(p.variant ?? 'v8');
      let [m, n] = [Number(version?.[1] ?? 0), Number(version?.[2] ?? 0)];
      if (m === 9) {
        for (let i = n - 1; i >= 0; i--) out.push(at('arm64', i === 0 ? 'v9' : `v9.${i}`));
        [m, n] = [8, n + 5];
        out.push(at('arm64', `v8.${n}`));
      }
      if (m === 8) for (let i = n - 1; i >= 0; i--) out.push(at('arm64', i === 0 ? 'v8' : `v8.${i}`));
      out.push(...compatiblePlatforms({ os: p.os, architecture: 'arm', variant: 'v8' }));
      break;
    }
  }
  return out;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/** Whether a machine of platform `want` runs an image of platform `have`. */
export function runsOn(have: Platform, want: Platform): boolean {
  const n = normalizePlatform(have);
  return compatiblePlatforms(want).some((c) => samePlatform(c, n));
}

/**
 * Entries that are images one could run: not attestations (buildx's
 * provenance and SBOM manifests, listed as unknown/unknown) and not without a
 * platform.
 */
export function imageEntries<T extends PlatformEntry>(entries: T[]): (T & { platform: Platform })[] {
  return entries.filter(
    (e): e is T & { platform: Platform } =>
      e.platform !== undefined &&
      e.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' &&
      !(e.platform.os === 'unknown' && e.platform.architecture === 'unknown'),
  );
}

/** The index entry for `want`: the best-ranked compatible platform, the first listed among equals. */
export function chooseManifest<T extends PlatformEntry>(entries: T[], want: Platform): T | undefined {
  const ranked = compatiblePlatforms(want);
  let best: { entry: T; rank: number } | undefined;
  for (const entry of imageEntries(entries)) {
    const n = normalizePlatform(entry.platform);
    const rank = ranked.findIndex((c) => samePlatform(c, n));
    if (rank >= 0 && (best === undefined || rank < best.rank)) best = { entry, rank };
  }
  return best?.entry;
}
