/**
 * A scale-out worker for the lease tests (test support, run as its own process): a ComposeEngine over
 * RedisComposeStore through the lease's WaveBuffer, wrapped in LeasedHosting, fed over a small loopback HTTP
 * channel (POST / {so, stream, update} answers the push; GET /held the components this worker holds): the
 * lease without the rest of the cloud, its store slowed so that a kill lands inside a wave.
 *
 * Usage: tsx e2e/so-lease-worker.ts <redis url> <worker id> <key prefix>; prints `ready <port>`.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { ComposeHost } from '@ferry/gateway';
import { LeasedHosting } from '../cloud/src/compose/scale-out/leases.ts';
import { WaveBuffer } from '../cloud/src/compose/scale-out/wave-store.ts';
import { RedisComposeStore } from '../cloud/src/storage/redis/compose-store.ts';
import { OBJECTS, OWNER } from './so-topology.ts';

const [url, worker, prefix] = process.argv.slice(2) as [string, string, string];
const redis = new Redis(url);
/** Each read of a latest value takes a millisecond more, so a wave lasts long enough for a kill to land inside it. */
class SlowStore extends RedisComposeStore {
  override async latest(key: string) {
    await new Promise((r) => setTimeout(r, 1));
    return await super.latest(key);
  }
}
const buffer = new WaveBuffer(new SlowStore({ redis, prefix, historyCap: 100_000 }), 100_000);
const host = new ComposeHost({ store: buffer, clock: { now: Date.now } });
for (const [id, doc] of OBJECTS) {
  const r = await host.create({ global: true }, id, OWNER, doc);
  if (!r.ok) throw r.error;
}
const leased = new LeasedHosting({
  local: host,
  buffer,
  redis,
  worker,
  prefix,
  leaseMs: 1500,
  componentOf: (so) => host.component(so).sort()[0] ?? so,
});

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (b: Buffer) => {
    body += b.toString();
  });
  req.on('end', () => {
    const answer = async (): Promise<unknown> => {
      if (req.method === 'GET') return leased.held;
      const { so, stream, update } = JSON.parse(body) as { so: string; stream: string; update: unknown };
      const r = await leased.push({ owner: OWNER }, so, stream, update);
      return r.ok ? { ok: true, outcome: r.value.outcome } : { ok: false, code: r.error.code };
    };
    answer().then(
      (a) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(a)),
      (e: Error) => res.writeHead(503).end(JSON.stringify({ ok: false, message: e.message })),
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`ready ${typeof a === 'object' && a !== null ? a.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void leased.close().then(() => redis.quit().then(() => process.exit(0)));
});
