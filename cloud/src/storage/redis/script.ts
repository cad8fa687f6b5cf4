/**
 * @module A Lua script run with EVALSHA, falling back to EVAL when the server does not hold it (NOSCRIPT:
 * after a restart, a failover or SCRIPT FLUSH; https://redis.io/docs/latest/commands/evalsha/). Redis errors
 * become StoreErrors: a reply error from the script is FERRY_STORE_SCRIPT, anything else (connection,
 * timeout) FERRY_STORE_UNAVAILABLE.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { StoreError } from '../errors.ts';

export type RedisClient = Redis | Cluster;

export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** Loads a script that lives beside this file. */
export function loadScript(file: string): Script {
  const source = readFileSync(new URL(file, import.meta.url), 'utf8');
  return { name: file, source, sha: createHash('sha1').update(source).digest('hex') };
}

const isReplyError = (e: unknown): e is Error => e instanceof Error && e.name === 'ReplyError';

/** Runs `script` over `keys` and `args`; resolves to its reply. */
export async function runScript(client: RedisClient, script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  try {
    try {
      return await client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!(isReplyError(e) && e.message.startsWith('NOSCRIPT'))) throw e;
      return await client.eval(script.source, keys.length, ...keys, ...args);
    }
  } catch (e) {
    if (isReplyError(e)) throw new StoreError('FERRY_STORE_SCRIPT', `${script.name}: ${e.message}`, e);
    throw new StoreError('FERRY_STORE_UNAVAILABLE', `${script.name}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/** Any other Redis command, with the same error mapping. */
export async function command<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (isReplyError(e)) throw new StoreError('FERRY_STORE_SCRIPT', `${what}: ${e.message}`, e);
    throw new StoreError('FERRY_STORE_UNAVAILABLE', `${what}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}
