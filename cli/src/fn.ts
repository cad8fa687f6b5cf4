/**
 * @module `ferry fn`: functions by hash on a running cloud (docs/functions.md): upload a module, white-list
 * a hash in a namespace, call an export. FERRY_TOKEN is the owner's private token (or a public token, for
 * calls).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { send, withApi, type ApiFlags } from './api-client.ts';
import type { Io } from './io.ts';
import { UsageError } from './usage.ts';

type NsFlags = ApiFlags & { namespace: string };

/**
 * A call argument from the command line: a number when it reads as one (so `-1` and `2.5`), `true`/`false`
 * as booleans, anything else as a string; an integer beyond 2^53 stays its decimal string, so an i64 arrives exact.
 */
export function callArg(s: string): unknown {
  if (s === 'true' || s === 'false') return s === 'true';
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) {
    const n = Number(s);
    if (Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n))) return n;
  }
  return s;
}

export function fnCommands(io: Io, setCode: (c: number) => void): Command {
  const fn = new Command('fn').description('functions by hash on a running cloud: upload, white-list, call');
  withApi(
    fn
      .command('upload <file.wasm>')
      .description("upload a module into an owner's namespace; prints its hash")
      .requiredOption('--namespace <ns>', 'the namespace it is uploaded for'),
  ).action(async (file: string, o: NsFlags) => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    await send(io, setCode, o, 'POST', `/api/functions/modules?namespace=${encodeURIComponent(o.namespace)}`, { bytes, type: 'application/wasm' });
  });
  withApi(
    fn
      .command('allow <hash>')
      .description('white-list a hash in a namespace (or take it off with --deny)')
      .requiredOption('--namespace <ns>', 'the namespace')
      .option('--deny', 'take the hash off the white-list'),
  ).action((hash: string, o: NsFlags & { deny?: boolean }) =>
    send(io, setCode, o, 'POST', '/api/functions/whitelist', { json: { namespace: o.namespace, hash, allowed: o.deny !== true } }),
  );
  withApi(
    fn
      .command('call <hash> <export> [args...]')
      .description('call an export; args are numbers when they read as numbers, true/false as booleans, else strings')
      .requiredOption('--namespace <ns>', 'the namespace the call runs in'),
  ).action((hash: string, exp: string, args: string[], o: NsFlags) =>
    send(io, setCode, o, 'POST', '/api/functions/call', { json: { hash, export: exp, args: args.map(callArg), namespace: o.namespace } }),
  );
  return fn;
}
