/** @module The CLI's streams, injectable so tests run commands in-process. */
import { createInterface } from 'node:readline';

export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** Lines of standard input (for commands that read tokens). */
  lines(): AsyncIterable<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const processIo: Io = {
  out: (s) => {
    process.stdout.write(s);
  },
  err: (s) => {
    process.stderr.write(s);
  },
  lines: () => createInterface({ input: process.stdin, crlfDelay: Infinity }),
  env: process.env,
};

/** An in-memory Io for tests. */
export function memoryIo(input: string[] = [], env: Record<string, string> = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    env,
    out: (s) => {
      stdout.push(s);
    },
    err: (s) => {
      stderr.push(s);
    },
    lines: async function* () {
      yield* input;
    },
  };
}
