/** @module bench:gateway's path (1a): decode -> RulesHost (single-filter) -> MQTT QoS 1, in this process. */
import mqtt from 'mqtt';
import { RulesHost } from '@ferry/rules-host';
import { toReading } from '../../gateway/src/bthome/advert.ts';
import { topicSegment } from '../../gateway/src/daemon/daemon.ts';
import { EVENTS, GW, OUT } from './config.ts';
import type { Counter } from './counter.ts';
import { adverts, decodeOne, expectedOutputs, recordOf, singleFilter } from './events.ts';
import { defer, yieldNow } from './lifecycle.ts';

/**
 * Two rule hosts on one publisher: as the daemon runs it (`ours`) and with a replay buffer never trimmed
 * (`untrimmed`, a diagnostic). Each call runs EVENTS adverts and resolves with events/s once the subscriber
 * has every passing output.
 */
export async function oursPaths(
  url: string,
  counter: Counter,
  expectMore: (topic: string, n: number) => number,
): Promise<{ ours: () => Promise<number>; untrimmed: () => Promise<number> }> {
  const ourPub = await mqtt.connectAsync(url, { clientId: 'bench-ours', clean: true });
  defer('ours publisher', () => ourPub.endAsync(true));
  const ruleHost = (output: string, replayBuffer?: number): RulesHost => {
    const h = new RulesHost({
      runtime: `gateway:${GW}`,
      publish: (topic, payload) => {
        ourPub.publish(topic, JSON.stringify(payload), { qos: 1 });
      },
      ...(replayBuffer !== undefined && { replayBuffer }),
    });
    h.engine.start(h.engine.install(singleFilter(`gateway:${GW}`, `ferry/up/${GW}/bthome/+`, output)).jobId);
    return h;
  };
  // As the daemon runs it (default replay buffer of 20,000 inputs, kept across runs: the steady state) ...
  const oursHost = ruleHost(OUT.ours);
  // ... and, as a diagnostic, with a replay buffer too large to be trimmed during the bench: RulesHost.input
  // trims its buffer with splice(0, 1) on every input once full, an O(buffer) copy that dominates the path.
  const untrimmedHost = ruleHost(OUT.untrimmed, Number.MAX_SAFE_INTEGER);
  let seq = 0;
  async function ours(host: RulesHost, output: string): Promise<number> {
    const done = counter.reach(output, expectMore(output, expectedOutputs), 120_000);
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      const a = adverts[i % adverts.length]!;
      const atMs = Date.now();
      const r = toReading(a.device, decodeOne(a), atMs, -60);
      // As the daemon does: the reading's record and input id (kid/epoch/seq) into the rules host.
      host.input(`ferry/up/${GW}/bthome/${topicSegment(r.device)}`, recordOf(r), atMs, `${GW}/1/${seq++}`);
      if ((i & 255) === 255) await yieldNow(); // let the socket write and the subscriber read, as a live gateway would
    }
    await done;
    return EVENTS / ((performance.now() - t0) / 1000);
  }

  return { ours: () => ours(oursHost, OUT.ours), untrimmed: () => ours(untrimmedHost, OUT.untrimmed) };
}
