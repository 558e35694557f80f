// Error answers as distribution writes them: a JSON `errors` list with the
// spec's codes, so a client's message for them is tested on what real
// registries send.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export function registryError(res: ServerResponse, status: number, code: string, message: string, headers: OutgoingHttpHeaders = {}): void {
  const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Docker-Distribution-Api-Version': 'registry/2.0',
    ...headers,
  });
  res.end(body);
}

/** The code and message distribution uses for STATUS on PATH. */
export function defaultError(status: number, path: string): { code: string; message: string; headers: OutgoingHttpHeaders } {
  if (status === 401) return { code: 'UNAUTHORIZED', message: 'authentication required', headers: { 'WWW-Authenticate': 'Basic realm="minipod-test"' } };
  if (status === 403) return { code: 'DENIED', message: 'requested access to the resource is denied', headers: {} };
  if (status === 404 && path.includes('/blobs/')) return { code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', headers: {} };
  if (status === 404 && path.includes('/manifests/')) return { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', headers: {} };
  if (status === 404) return { code: 'NAME_UNKNOWN', message: 'repository name not known to registry', headers: {} };
  if (status === 429) return { code: 'TOOMANYREQUESTS', message: 'too many requests', headers: { 'Retry-After': '1' } };
  return { code: 'UNKNOWN', message: 'unknown error', headers: {} };
}
