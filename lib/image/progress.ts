// What a pull shows while it runs: on a terminal, a line per layer redrawn in
// place (bytes of total, rate), as docker and podman draw theirs; elsewhere
// (a log, CI) one line per layer once it is done, so nothing is redrawn.

export interface LayerProgress {
  /** Bytes received since the last call. */
  add(bytes: number): void;
  /** Fetched and unpacked; or found in the store, `existed`, with nothing fetched. */
  done(existed?: boolean): void;
}

export interface PullProgress {
  layer(digest: string, size: number): LayerProgress;
  /** Everything is drawn as it ended. */
  close(): void;
}

export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

const REDRAW_MS = 100;

export function pullProgress(out: ProgressOutput, now: () => number = Date.now): PullProgress {
  return out.isTTY ? new TerminalProgress(out, now) : new LineProgress(out, now);
}

/** Nothing at all (-q). */
export const quietProgress: PullProgress = { layer: () => ({ add() {}, done() {} }), close() {} };

interface Row {
  name: string;
  size: number;
  got: number;
  start: number;
  state: 'fetching' | 'done' | 'existed';
  end: number;
}

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

function row(name: string, size: number, now: number): Row {
  return { name, size, got: 0, start: now, state: 'fetching', end: now };
}

function finishedLine(r: Row): string {
  if (r.state === 'existed') return `${r.name}: already exists`;
  const seconds = Math.max(r.end - r.start, 1) / 1000;
  return `${r.name}: pulled ${mib(r.got)} in ${seconds.toFixed(1)}s (${mib(r.got / seconds)}/s)`;
}

/** KiB below a MiB, so that a small layer does not show as 0.0 MiB. */
export function mib(bytes: number): string {
  return bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
}

class LineProgress implements PullProgress {
  constructor(private readonly out: ProgressOutput, private readonly now: () => number) {}

  layer(digest: string, size: number): LayerProgress {
    const r = row(short(digest), size, this.now());
    return {
      add: (bytes) => void (r.got += bytes),
      done: (existed = false) => {
        r.state = existed ? 'existed' : 'done';
        r.end = this.now();
        this.out.write(`${finishedLine(r)}\n`);
      },
    };
  }

  close(): void {}
}

class TerminalProgress implements PullProgress {
  private readonly rows: Row[] = [];
  /** Lines drawn last time, which the next drawing goes back over. */
  private drawn = 0;
  private last = 0;

  constructor(private readonly out: ProgressOutput, private readonly now: () => number) {}

  layer(digest: string, size: number): LayerProgress {
    const r = row(short(digest), size, this.now());
    this.rows.push(r);
    this.draw(true);
    return {
      add: (bytes) => {
        r.got += bytes;
        this.draw(false);
      },
      done: (existed = false) => {
        r.state = existed ? 'existed' : 'done';
        r.end = this.now();
        this.draw(true);
      },
    };
  }

  close(): void {
    this.draw(true);
  }

  private draw(force: boolean): void {
    const now = this.now();
    if (!force && now - this.last < REDRAW_MS) return;
    this.last = now;
    const lines = this.rows.map((r) => (r.state === 'fetching' ? this.fetchingLine(r, now) : finishedLine(r)));
    // Back to the first row, each line cleared as it is written again.
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    this.out.write(`${up}${lines.map((l) => `\r\x1b[2K${l}\n`).join('')}`);
    this.drawn = lines.length;
  }

  private fetchingLine(r: Row, now: number): string {
    const seconds = Math.max(now - r.start, 1) / 1000;
    return `${r.name}: ${mib(r.got)} / ${mib(r.size)} ${mib(r.got / seconds)}/s`;
  }
}
