/**
 * @module A process for the gateway's kill -9 test (not a library module): buffers `count` readings
 * through an Uplink whose broker is down, printing "put <id> <payload>" after each durable put, so the
 * parent can kill -9 it at any point. Usage: tsx outbox-writer.ts <db-path> <broker-url> <count>; the
 * parent finds this file with require.resolve('@ferry/test-kit/outbox-writer').
 */
import { Outbox, Uplink } from '@ferry/gateway';

const [db, url, count] = process.argv.slice(2) as [string, string, string];
const outbox = new Outbox({ path: db });
const uplink = new Uplink({ url, gatewayId: 'gw-kill', outbox, reconnectMs: 60_000 });
for (let i = 0; i < Number(count); i++) {
  const payload = `reading-${i}`;
  const id = uplink.send('ferry/up/gw-kill', new TextEncoder().encode(payload));
  process.stdout.write(`put ${id} ${payload}\n`);
  if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
}
process.stdout.write('done\n');
await new Promise(() => undefined); // stay alive until killed
