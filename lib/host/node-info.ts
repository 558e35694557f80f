import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';

/** The machine as a Kubernetes node: its name and its InternalIP (the first non-loopback IPv4, else IPv6, else loopback). */
export function nodeInfo(): { name: string; ip: string } {
  const addresses = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal).map((a) => a!);
  const ip = addresses.find((a) => a.family === 'IPv4') ?? addresses.find((a) => a.family === 'IPv6');
  return { name: hostname(), ip: ip?.address ?? '127.0.0.1' };
}

/** A fresh metadata.uid: the kernel's UUID source (node:crypto costs more to load than a whole pod start step). */
export function newPodUid(): string {
  return readFileSync('/proc/sys/kernel/random/uuid', 'latin1').trim();
}
