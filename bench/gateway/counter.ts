/** @module bench:gateway's subscriber: counts the outputs per topic in a worker thread. */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { defer, sleep } from './lifecycle.ts';

// Subscriber: counts outputs per topic in a worker thread, so its MQTT work (receive + PUBACK of every output)
// runs on its own event loop as the cloud would, and is charged neither to our pipeline nor to Node-RED's
// feeder. Readiness probes (payload naming "probe") are reported separately.
const SUBSCRIBER_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const mqtt = require(workerData.mqtt);
const counts = new Map();
let waiters = [];
const probe = Buffer.from('"probe"');
const client = mqtt.connect(workerData.url, { clientId: 'bench-subscriber', clean: true });
client.on('error', (e) => parentPort.postMessage({ type: 'error', message: e.message }));
client.once('connect', () => client.subscribe(workerData.filter, { qos: 1 }, (e) => parentPort.postMessage(e ? { type: 'error', message: e.message } : { type: 'ready' })));
client.on('message', (topic, payload) => {
  if (payload.indexOf(probe) >= 0) { parentPort.postMessage({ type: 'probe' }); return; }
  const n = (counts.get(topic) || 0) + 1;
  counts.set(topic, n);
  if (waiters.length > 0) waiters = waiters.filter((w) => (w.topic === topic && n >= w.n ? (parentPort.postMessage({ type: 'reached', id: w.id }), false) : true));
});
parentPort.on('message', (m) => {
  const n = counts.get(m.topic) || 0;
  if (m.type === 'count') parentPort.postMessage({ type: 'count', id: m.id, n });
  else if (m.type === 'reach') { if (n >= m.n) parentPort.postMessage({ type: 'reached', id: m.id }); else waiters.push(m); }
  else if (m.type === 'stop') client.end(true, () => process.exit(0));
});
`;
export class Counter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (n: number) => void>();
  private nextId = 0;
  private failure: Error | undefined;
  probes = 0;
  private constructor(worker: Worker) {
    this.worker = worker;
  }
  static async start(url: string): Promise<Counter> {
    const worker = new Worker(SUBSCRIBER_WORKER, {
      eval: true,
      workerData: { url, filter: 'ferry/bench/out/#', mqtt: createRequire(import.meta.url).resolve('mqtt') },
    });
    const c = new Counter(worker);
    defer('subscriber', () => c.stop());
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string; id?: number; n?: number; message?: string }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'probe') c.probes++;
        else if (m.type === 'error') {
          c.failure = new Error(`subscriber: ${m.message ?? ''}`);
          reject(c.failure);
        } else if (m.id !== undefined) {
          c.pending.get(m.id)?.(m.n ?? 0);
          c.pending.delete(m.id);
        }
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`subscriber worker exited with ${code}`)));
    });
    return c;
  }
  private ask(msg: Record<string, unknown>, timeoutMs = 10_000, what = ''): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        void this.count(String(msg['topic'])).then((n) => reject(new Error(`${what}: ${n} of ${String(msg['n'])} outputs after ${timeoutMs} ms`)), reject);
      }, timeoutMs);
      this.pending.set(id, (n) => {
        clearTimeout(t);
        resolve(n);
      });
      this.worker.postMessage({ ...msg, id });
    });
  }
  count(topic: string): Promise<number> {
    return this.ask({ type: 'count', topic });
  }
  /** Resolves when `topic` has seen `n` messages in total. */
  async reach(topic: string, n: number, timeoutMs: number): Promise<void> {
    await this.ask({ type: 'reach', topic, n }, timeoutMs, topic);
  }
  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.postMessage({ type: 'stop' });
    if (!(await Promise.race([exited.then(() => true), sleep(2000).then(() => false)]))) await this.worker.terminate();
  }
}
