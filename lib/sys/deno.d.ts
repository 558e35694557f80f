// The few Deno APIs minipod uses, typed here so that one strict tsconfig checks
// both backends without pulling Deno's whole global scope (which clashes with
// @types/node) into the Node build.
declare namespace Deno {
  type NativeType = 'i32' | 'u32' | 'i64' | 'u64' | 'isize' | 'usize' | 'pointer' | 'buffer' | 'void';
  interface ForeignFunction {
    /** The C symbol, when the key is another name for it (one symbol, two prototypes). */
    name?: string;
    parameters: readonly NativeType[];
    result: NativeType;
  }
  type PointerValue = object | null;
  interface DynamicLibrary<S> {
    symbols: { [K in keyof S]: (...args: unknown[]) => unknown };
    close(): void;
  }
  function dlopen<S extends Record<string, ForeignFunction>>(path: string, symbols: S): DynamicLibrary<S>;
  class UnsafePointerView {
    constructor(pointer: PointerValue);
    getInt32(offset?: number): number;
  }

  interface CommandOptions {
    args?: string[];
    env?: Record<string, string>;
    clearEnv?: boolean;
    stdin?: 'null' | 'piped' | 'inherit';
    stdout?: 'null' | 'piped' | 'inherit';
    stderr?: 'null' | 'piped' | 'inherit';
  }
  interface CommandStatus {
    success: boolean;
    code: number;
    signal: string | null;
  }
  interface ChildProcess {
    readonly pid: number;
    readonly stdin: WritableStream<Uint8Array>;
    readonly stdout: ReadableStream<Uint8Array>;
    readonly stderr: ReadableStream<Uint8Array>;
    readonly status: Promise<CommandStatus>;
  }
  class Command {
    constructor(command: string, options?: CommandOptions);
    spawn(): ChildProcess;
  }
  const build: { arch: 'x86_64' | 'aarch64' };
  function addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  function removeSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
}
