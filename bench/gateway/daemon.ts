/** @module bench:gateway's path (1b): the whole GatewayDaemon: sign + outbox (SQLite, synchronous NORMAL) + rules + QoS 1 uplink drain. */
import { join } from 'node:path';
import { toReading } from '../../gateway/src/bthome/advert.ts';
import { GatewayConfigSchema } from '../../gateway/src/daemon/config.ts';
import { GatewayDaemon } from '../../gateway/src/daemon/daemon.ts';
import { DAEMON_EVENTS, GW, KEY, OUT } from './config.ts';
import type { Counter } from './counter.ts';
import { adverts, decodeOne, expectedDaemon, singleFilter } from './events.ts';
import { defer, sleep, tmp, yieldNow } from './lifecycle.ts';

/**
 * Starts a daemon uplinked to `url`; `run` feeds it DAEMON_EVENTS readings and resolves with events/s once the
 * subscriber has every passing output; `problems` counts what it logged above info.
 */
export async function daemonPath(
  url: string,
  counter: Counter,
  expectMore: (topic: string, n: number) => number,
): Promise<{ run: () => Promise<number>; problems: () => number }> {
  const cfg = GatewayConfigSchema.parse({
    gateway: { id: GW, key: KEY, data_dir: join(tmp, 'daemon') },
    uplink: { url, topic_prefix: 'ferrybench', buffer: { synchronous: 'NORMAL' } },
    api: { host: '127.0.0.1', port: 0 },
    ble: { enabled: false },
    rules: [singleFilter(`gateway:${GW}`, `ferrybench/up/${GW}/bthome/+`, OUT.daemon)],
  });
  let daemonProblems = 0;
  const daemon = new GatewayDaemon(cfg, {
    sources: [],
    log: (level) => {
      if (level !== 'info') daemonProblems++;
    },
  });
  defer('daemon', () => daemon.stop());
  await daemon.start();
  for (let i = 0; i < 200 && !daemon.uplink.connected; i++) await sleep(10);
  async function run(): Promise<number> {
    const done = counter.reach(OUT.daemon, expectMore(OUT.daemon, expectedDaemon), 300_000);
    const t0 = performance.now();
    for (let i = 0; i < DAEMON_EVENTS; i++) {
      const a = adverts[i % adverts.length]!;
      daemon.sink.reading(toReading(a.device, decodeOne(a), Date.now(), -60));
      if ((i & 255) === 255) await yieldNow();
    }
    await done;
    return DAEMON_EVENTS / ((performance.now() - t0) / 1000);
  }

  return { run, problems: () => daemonProblems };
}
