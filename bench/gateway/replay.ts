/**
 * @module bench:gateway's part (3), store-and-forward replay: an outbox filled while the broker is down, then
 * drained to empty by an Uplink once the broker is back (msgs/s), and bytes on disk per buffered message.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { toReading } from '../../gateway/src/bthome/advert.ts';
import { topicSegment } from '../../gateway/src/daemon/daemon.ts';
import { GatewaySigner } from '../../gateway/src/daemon/signer.ts';
import { Outbox } from '../../gateway/src/uplink/outbox.ts';
import { Uplink } from '../../gateway/src/uplink/uplink.ts';
import { GW, KEY } from './config.ts';
import { adverts, decodeOne } from './events.ts';
import { broker, tmp } from './lifecycle.ts';

export interface Replay {
  rate: number;
  bytesPerMsg: number;
  payloadPerMsg: number;
}
export async function replay(synchronous: 'FULL' | 'NORMAL', n: number): Promise<Replay> {
  const b = await broker(`replay-${synchronous}-${Math.random().toString(36).slice(2, 8)}`);
  await b.stop(); // the outage
  const dir = mkdtempSync(join(tmp, 'outbox-'));
  const outbox = new Outbox({ path: join(dir, 'outbox.db'), synchronous });
  const uplink = new Uplink({ url: b.url, gatewayId: `${GW}-replay`, outbox, reconnectMs: 50 });
  try {
    // Signed readings as the daemon buffers them, committed through the uplink while it cannot connect.
    const signer = new GatewaySigner(GW, Buffer.from(KEY, 'hex'), 1);
    for (let i = 0; i < n; i++) {
      const a = adverts[i % adverts.length]!;
      const rd = toReading(a.device, decodeOne(a), Date.now(), -60);
      const data = { device: rd.device, kind: rd.kind, ...rd.values, meta: { ...rd.meta } };
      uplink.send(`ferry/up/${GW}/bthome/${topicSegment(rd.device)}`, new TextEncoder().encode(signer.sign('reading', data, rd.atMs)));
    }
    if (outbox.stats().rows !== n) throw new Error(`outbox holds ${outbox.stats().rows} of ${n}`);
    const size = (f: string): number => (existsSync(f) ? statSync(f).size : 0);
    const file = join(dir, 'outbox.db');
    const bytesPerMsg = (size(file) + size(`${file}-wal`) + size(`${file}-shm`)) / n;
    const payloadPerMsg = outbox.stats().bytes / n;
    await b.start();
    while (!uplink.connected) await new Promise((r) => setTimeout(r, 1));
    const t0 = performance.now();
    while (outbox.stats().rows > 0) await new Promise((r) => setTimeout(r, 1));
    const rate = n / ((performance.now() - t0) / 1000);
    return { rate, bytesPerMsg, payloadPerMsg };
  } finally {
    await uplink.close().catch(() => undefined);
    outbox.close();
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
