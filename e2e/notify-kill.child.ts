/**
 * The cloud process of e2e/notify-kill.test.ts: starts a CloudService on `dataDir` (argv 2) whose notifier may
 * reach loopback, subscribes a webhook `hookUrl` (argv 3) to `kill.*` events on its first run, then accepts
 * `count` (argv 4) events, printing `accepted <i>` once each is stored, and `ready`.
 */
import { CloudService } from '@ferry/cloud';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { testCloudOptions } from '../cloud/src/service/test-cloud.case.ts';

const [dataDir, hookUrl, countArg] = process.argv.slice(2) as [string, string, string];
const cloud = new CloudService({
  ...testCloudOptions({ dataDir }),
  functionRunner: 'in-process',
  notify: { allowPrivateAddresses: true, tickMs: 20, retry: { initialMs: 50, maxMs: 200 } },
});
const { httpUrl } = await cloud.start();
const post = async (path: string, body: unknown): Promise<{ id: string }> => {
  const r = await fetch(`${httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { id: string };
};
if ((await cloud.notifier.store.listChannels({ owner: undefined })).length === 0) {
  const ch = await post('/api/v1/notify/channels', { kind: 'webhook', config: { url: hookUrl } });
  await post('/api/v1/notify/subscriptions', { channelId: ch.id, kinds: ['kill.*'] });
}
for (let i = 0; i < Number(countArg); i++) {
  await cloud.notifier.accept({ kind: 'kill.test', source: `e${i}`, at: Date.now(), data: { i } });
  process.stdout.write(`accepted ${i}\n`);
}
process.stdout.write('ready\n');
