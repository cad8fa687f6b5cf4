/**
 * @module A publisher for the end-to-end benchmarks, run in a worker thread so that, as in a deployment, the
 * clients do not share the service's event loop (the machine's second core runs them). workerData:
 * {url, topics | topic, msgs, window, login?, ca?} (msgs[i] goes on topics[i], or all on topic; login: the
 * connect options' client id, user name and password; ca: an mqtts:// url's only trusted CA); posts 'done'
 * once every publish is acknowledged by the broker. Plain JavaScript:
 * a worker thread does not inherit the tsx loader.
 */
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';

const { url, topic, topics, msgs, window, login, ca } = workerData;
// An mqtts:// url: the CA given is the only one trusted, as a Ferry client pins it.
const pub = await mqtt.connectAsync(url, { ...(login ?? {}), ...(ca === undefined ? {} : { ca, rejectUnauthorized: true }) });
pub.stream.setNoDelay?.(true);
// A window of unacknowledged publishes, as the gateway uplink keeps.
const inflight = new Set();
for (const [i, m] of msgs.entries()) {
  const p = pub.publishAsync(topics?.[i] ?? topic, m, { qos: 1 });
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
  if (inflight.size >= window) await Promise.race(inflight);
}
await Promise.all(inflight);
await pub.endAsync();
parentPort.postMessage('done');
