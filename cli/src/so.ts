/**
 * @module `ferry so`: composite streams on a running cloud (docs/composite-streams.md "REST API"):
 * `create <file.json>` prints the new object's id, `push <so> <stream> <json>` feeds a sensor update and
 * prints what happened, `watch <so> <stream>` follows the stream's server-sent events and prints one JSON
 * line per stored value until interrupted (or `--count` values; exit 1 when the cloud ends the stream, a
 * revoked grant for example).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ApiClient, print, seg, send, withApi, type ApiFlags } from './api-client.ts';
import type { Io } from './io.ts';
import { UsageError } from './usage.ts';

function jsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${what} is not JSON: ${(e as Error).message}`);
  }
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  return jsonArg(text, file);
}

/** Prints each `value` event's data as one line; resolves with the `end` event's reason, if one came. */
async function follow(io: Io, res: Response, count: number): Promise<{ ended?: string }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let seen = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return {};
      buf += decoder.decode(value, { stream: true });
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === 'end') return { ended: data ?? '' };
        if (event !== 'value' || data === undefined) continue;
        io.out(`${data}\n`);
        if (++seen >= count) return {};
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

export function soCommands(io: Io, setCode: (c: number) => void): Command {
  const so = new Command('so').description('composite streams (service objects) on a running cloud');
  withApi(
    so
      .command('create <file>')
      .description('create a service object from a ServIoTicy 0.1.0 / 0.2.0 document; prints its id')
      .option('--owner <id>', 'the owner (a global credential names one; others create their own)'),
  ).action(async (file: string, o: ApiFlags & { owner?: string }) => {
    const doc = readJsonFile(file);
    const a = await ApiClient.of(io, o).request('POST', `/api/v1/sos${o.owner !== undefined ? `?owner=${seg(o.owner)}` : ''}`, { json: doc });
    if (a.ok) io.out(`${(a.body as { id: string }).id}\n`);
    else print(io, setCode, a);
  });
  withApi(so.command('push <so> <stream> <update>').description('feed a simple stream a sensor update {"channels": {...}, "lastUpdate": ms}')).action(
    (id: string, stream: string, update: string, o: ApiFlags) =>
      send(io, setCode, o, 'PUT', `/api/v1/sos/${seg(id)}/streams/${seg(stream)}`, { json: jsonArg(update, 'the update') }),
  );
  withApi(
    so
      .command('watch <so> <stream>')
      .description("print the stream's stored values as they come, one JSON line each, until interrupted")
      .option('--count <n>', 'stop after n values'),
  ).action(async (id: string, stream: string, o: ApiFlags & { count?: string }) => {
    const count = o.count === undefined ? Number.POSITIVE_INFINITY : Number(o.count);
    if (o.count !== undefined && !(Number.isInteger(count) && count > 0)) throw new UsageError('--count is a whole number above 0');
    const res = await ApiClient.of(io, o).open(`/api/v1/sos/${seg(id)}/streams/${seg(stream)}/events`);
    if (!res.ok) {
      const text = await res.text();
      return print(io, setCode, { status: res.status, ok: false, body: text === '' ? { status: res.status } : (JSON.parse(text) as unknown) });
    }
    const r = await follow(io, res, count);
    if (r.ended !== undefined) {
      io.err(`ferry: the cloud ended the stream: ${r.ended}\n`);
      setCode(1);
    }
  });
  return so;
}
