// An image's StopSignal (docker's STOPSIGNAL), read as moby's signal.ParseSignal
// does: a name with or without SIG, or a number. The pod's containers are
// stopped with it instead of SIGTERM, as containerd's CRI does.
import { MinipodError } from '../errors.ts';

/** Linux's numbers, the same on x86_64 and arm64. */
const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
  XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};
const SIGRTMIN = 34;
const SIGRTMAX = 64;

export function parseStopSignal(value: string, context: string): number {
  const name = value.toUpperCase().replace(/^SIG/, '');
  if (/^\d+$/.test(name)) {
    const n = Number(name);
    if (n >= 1 && n <= SIGRTMAX) return n;
  } else if (Object.hasOwn(SIGNALS, name)) {
    return SIGNALS[name]!;
  } else {
    const rt = /^RT(MIN|MAX)([+-]\d+)?$/.exec(name);
    const n = rt ? (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + Number(rt[2] ?? 0) : NaN;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new MinipodError(`${context}: config StopSignal "${value}" is not a signal`);
}
