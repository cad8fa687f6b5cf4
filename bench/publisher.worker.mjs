/**
 * @module A publisher for the end-to-end benchmarks, run in a worker thread so that, as in a deployment, the
 * clients do not share the service's event loop (the machine's second core runs them). workerData:
 * {url, topics, msgs, window, login?} (msgs[i] goes on topics[i]; login: the connect options' client id, user
 * name and password); posts 'done' once every publish is acknowledged by the broker. Plain JavaScript:
 * a worker thread does not inherit the tsx loader.
 */
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';

const { url, topics, msgs, window, login } = workerData;
const pub = await mqtt.connectAsync(url, login ?? {});
pub.stream.setNoDelay?.(true);
// A window of unacknowledged publishes, as the gateway uplink keeps.
const inflight = new Set();
for (const [i, m] of msgs.entries()) {
  const p = pub.publishAsync(topics[i], m, { qos: 1 });
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
  if (inflight.size >= window) await Promise.race(inflight);
}
await Promise.all(inflight);
await pub.endAsync();
parentPort.postMessage('done');
