/**
 * @module Hostile and faulty inputs, each one a thing a review did to a running Ferry (docs/limits.md says what
 * bounds each). An attack runs against a started System and returns what it saw; `check` says whether the
 * system answered the way docs/limits.md promises. The chaos suite runs each and then a reference call; the
 * chaos bench measures the reference call's latency while each attack runs.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import mqtt from 'mqtt';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { wat } from '@ferry/test-kit/wat';
import type { System } from './system.ts';
import { getAs } from '@ferry/test-kit/http';

export interface Attack {
  readonly name: string;
  /** Runs the attack to its end; resolves to a problem (a broken promise of docs/limits.md) or undefined. */
  run(sys: System): Promise<string | undefined>;
}

/** MQTT 3.1.1 §2.2: a fixed header with the Remaining Length. */
const fixedHeader = (type: number, length: number): Buffer => {
  const out = [type];
  let x = length;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    out.push(b);
  } while (x > 0);
  return Buffer.from(out);
};
const CONNECT = Buffer.from([0x10, 0x0f, 0x00, 0x04, ...Buffer.from('MQTT'), 0x04, 0x02, 0x00, 0x3c, 0x00, 0x03, ...Buffer.from('bad')]);

const post = (url: string, body: string | Uint8Array, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : Buffer.from(body) });

export const ATTACKS: readonly Attack[] = [
  {
    name: 'oversized MQTT packets (255 MiB announced)',
    async run(sys) {
      const { port } = new URL(sys.mqttUrl);
      const closed = await Promise.all(
        Array.from(
          { length: 5 },
          () =>
            new Promise<boolean>((resolve) => {
              const s = connect(Number(port), '127.0.0.1', () => {
                s.write(CONNECT);
                s.write(fixedHeader(0x30, 255 * 1024 * 1024));
                s.write(randomBytes(64 * 1024));
              });
              s.on('error', () => undefined);
              s.once('close', () => resolve(true));
              setTimeout(() => {
                s.destroy();
                resolve(false);
              }, 5000);
            }),
        ),
      );
      return closed.every(Boolean) ? undefined : 'a connection announcing a 255 MiB packet was not closed';
    },
  },
  {
    name: 'retained flood on arbitrary topics',
    async run(sys) {
      const c = await mqtt.connectAsync(sys.mqttUrl, workerLogin(sys.cloud.mqttCredential));
      for (let i = 0; i < 2000; i++) c.publish(`ferry/junk/${i}`, randomBytes(512), { qos: 0, retain: true });
      await c.publishAsync('ferry/junk/last', 'x', { qos: 1, retain: true });
      await c.endAsync();
      const late = await mqtt.connectAsync(sys.mqttUrl, workerLogin(sys.cloud.mqttCredential));
      let got = 0;
      late.on('message', () => {
        got++;
      });
      await late.subscribeAsync('ferry/junk/#', { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
      await late.endAsync(true);
      return got === 0 ? undefined : `${got} retained messages kept on arbitrary topics`;
    },
  },
  {
    name: 'unknown-kid flood (2000 messages, valid shape, unknown keys)',
    async run(sys) {
      const before = sys.cloud.ingest.counters().rejected;
      const lookups = sys.cloud.devices.lookups;
      const c = await mqtt.connectAsync(sys.mqttUrl, workerLogin(sys.cloud.mqttCredential));
      const key = hmacKey(randomBytes(32));
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 2000; i++) {
        const kid = `ghost-${i % 50}`;
        const t = encode({ header: { kid, ep: 1, sq: i }, claims: { iss: kid, iat: 1 } }, key);
        if (t.ok) sends.push(c.publishAsync(`ferry/up/${kid}/msg`, t.value, { qos: 1 }));
      }
      await Promise.all(sends);
      await c.endAsync();
      const rejected = sys.cloud.ingest.counters().rejected - before;
      const cost = sys.cloud.devices.lookups - lookups;
      if (rejected !== 2000) return `${rejected} of 2000 forged messages rejected`;
      return cost <= 50 * 3 ? undefined : `${cost} store lookups for 50 unknown kids`;
    },
  },
  {
    name: 'one device flooding past its rate (2000 messages at once)',
    async run(sys) {
      const id = `flooder-${randomBytes(3).toString('hex')}`;
      const sign = sys.device(id);
      const before = sys.cloud.ingest.counters().accepted;
      const c = await mqtt.connectAsync(sys.mqttUrl, workerLogin(sys.cloud.mqttCredential));
      await Promise.all(Array.from({ length: 2000 }, (_, sq) => c.publishAsync(`ferry/up/${id}/msg`, sign(sq), { qos: 1 })));
      await c.endAsync();
      const accepted = sys.cloud.ingest.counters().accepted - before;
      return accepted >= 2000 ? undefined : `only ${accepted} of 2000 acknowledged messages were accepted`;
    },
  },
  {
    name: 'module uploads that would exhaust a runner (a 10-million-entry table)',
    async run(sys) {
      const bomb = wat('(module (table 10000000 funcref) (memory (export "memory") 1 1) (func (export "abi_version") (result i32) i32.const 1))');
      const codes = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const r = await post(`${sys.httpUrl}/api/functions/modules?namespace=home`, bomb, {
            'content-type': 'application/wasm',
            authorization: `Bearer ${sys.ownerToken}`,
          });
          return `${r.status} ${((await r.json()) as { code?: string }).code}`;
        }),
      );
      return codes.every((c) => c === '400 FERRY_FN_MODULE_INVALID') ? undefined : `uploads answered ${[...new Set(codes)].join(', ')}`;
    },
  },
  {
    // With a credential of its own (an owner's), so its bodies are read: the parser's refusal is what is tried.
    name: 'malformed JSON bodies (150 requests)',
    async run(sys) {
      const answers = await Promise.all(
        Array.from({ length: 150 }, async (_, i) => {
          const r = await post(`${sys.httpUrl}/api/devices`, `{"id": "x${i}", `, {
            'content-type': 'application/json',
            authorization: `Bearer ${sys.ownerToken}`,
          });
          return `${r.status} ${((await r.json()) as { code?: string }).code}`;
        }),
      );
      return answers.every((a) => a === '400 FERRY_API_BAD_REQUEST') ? undefined : `answered ${[...new Set(answers)].join(', ')}`;
    },
  },
  {
    name: 'anonymous and wrong-credential requests (300)',
    async run(sys) {
      const answers = await Promise.all(
        Array.from({ length: 300 }, async (_, i) => {
          const headers: Record<string, string> = { 'content-type': 'application/json', ...(i % 2 === 0 && { authorization: `Bearer wrong-${i}` }) };
          const r = await post(`${sys.httpUrl}/api/devices`, JSON.stringify({ id: `anon-${i}` }), headers);
          return `${r.status} ${((await r.json()) as { code?: string }).code}`;
        }),
      );
      // Each refused before its body is read: 401, and past the per-address pace 429; never a device made.
      const allowed = new Set(['401 FERRY_AUTH_REQUIRED', '401 FERRY_AUTH_BAD_CREDENTIAL', '429 FERRY_AUTH_RATE_LIMITED']);
      if (!answers.every((a) => allowed.has(a))) return `answered ${[...new Set(answers)].join(', ')}`;
      return sys.cloud.devices.list().some((d) => d.id.startsWith('anon-')) ? 'a device was made' : undefined;
    },
  },
  {
    name: 'a self-join rule on one key, 3000 records (gateway)',
    async run(sys) {
      const engine = sys.gateway.rules.engine;
      const job = engine.install({
        headers: { runtime: `gateway:${sys.gatewayId}`, targetResource: 'chaos', jobType: 'sql' },
        jobConfig: {
          connectors: { input: ['chaos/self', 'chaos/self'], output: 'chaos/out' },
          jobProps: { query: 'SELECT a.n AS l, b.n AS r FROM chaos/self AS a JOIN chaos/self AS b ON a.k = b.k WITHIN 1h' },
        },
      });
      engine.start(job.jobId);
      let outputs = 0;
      for (let i = 0; i < 3000; i++) outputs += engine.push('chaos/self', { k: 1, n: i }, 1_767_225_600_000 + i).length;
      const failure = engine.status(job.jobId).failure?.code;
      engine.uninstall(job.jobId);
      if (failure !== 'FERRY_RULES_LIMIT') return `the job was not stopped by a cap (failure ${failure})`;
      return outputs < 1_000_000 ? undefined : `${outputs} outputs`;
    },
  },
  {
    name: 'a rule that feeds its own input (gateway)',
    async run(sys) {
      try {
        sys.gateway.rules.engine.install({
          headers: { runtime: `gateway:${sys.gatewayId}`, targetResource: 'loop', jobType: 'single-filter' },
          jobConfig: { connectors: { input: 'loop/#', output: 'loop/out' }, jobProps: { condition: 'gt', threshold: 0, fieldName: 'v' } },
        });
        return 'a self-feeding rule was installed';
      } catch (e) {
        return (e as { code?: string }).code === 'FERRY_RULES_FEEDS_ITSELF' ? undefined : `refused with ${(e as Error).message}`;
      }
    },
  },
  {
    name: 'control requests outside /api/ through the cloud',
    async run(sys) {
      const t0 = performance.now();
      const codes = await Promise.all(Array.from({ length: 20 }, async () => (await getAs(`${sys.httpUrl}/api/gateways/${sys.gatewayId}/health`)).status));
      const ms = performance.now() - t0;
      if (!codes.every((c) => c === 400)) return `answered ${[...new Set(codes)].join(', ')}`;
      return ms < 4000 ? undefined : 'the refusals waited for a timeout';
    },
  },
];
