// What the CLI asks the shared supervisor, one JSON object per line on its
// Unix socket (<root>/supervisor.sock), and what it answers.

/** Start a pod from a manifest file, as `minipod run -d` was told to. */
export interface RunRequest {
  op: 'run';
  file: string;
  images: string;
  name?: string;
  graceSeconds?: number;
  backoffSeconds: number;
  pidsLimit: number;
  cgroupParent?: string;
  cgroups: boolean;
}

/** Stop a pod (`minipod stop`); answered once it has stopped. */
export interface StopRequest {
  op: 'stop';
  id: string;
  graceSeconds?: number;
}

export type Request = RunRequest | StopRequest;

export type Reply = { ok: true; id: string } | { ok: false; error: string; exitCode: number };

export const socketPath = (root: string) => `${root}/supervisor.sock`;
