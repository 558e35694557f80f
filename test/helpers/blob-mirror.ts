// The "other host" that real registries send blob downloads to (Docker Hub
// to its CDN, ghcr.io and quay.io to S3-style storage): a server on
// 127.0.0.2, a different origin from the registry's 127.0.0.1, that serves
// what the fault proxy hands it under a one-time-looking URL, and records
// whether each request carried an Authorization header. A client must not
// send the registry's credentials to it.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface MirrorRequest {
  method: string;
  path: string;
  /** The Authorization header as received; undefined when there was none, as there should be. */
  authorization: string | undefined;
}

export class BlobMirror {
  readonly requests: MirrorRequest[] = [];
  private readonly blobs = new Map<string, { body: Buffer; contentType: string }>();
  private server: Server | null = null;
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
      const blob = this.blobs.get(path);
      if (!blob) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': blob.contentType, 'Content-Length': blob.body.length });
      res.end(req.method === 'HEAD' ? undefined : blob.body);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err) => reject(new Error(`blob mirror: listening on 127.0.0.2: ${err.message}`)));
      this.server!.listen(0, '127.0.0.2', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  get host(): string {
    return `127.0.0.2:${this.port}`;
  }

  /** Holds BODY and returns the URL it is served at. */
  offer(body: Buffer, contentType: string): string {
    const path = `/blobs/${randomBytes(8).toString('hex')}`;
    this.blobs.set(path, { body, contentType });
    return `http://${this.host}${path}?signature=${randomBytes(8).toString('hex')}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
