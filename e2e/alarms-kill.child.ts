/**
 * The cloud process of e2e/alarms-kill.test.ts: starts a CloudService on `dataDir` (argv 2) whose notifier may
 * reach loopback and retries after 1.5 s, checks health every minute, and prints `ready <mqtt url> <http url>`.
 */
import { CloudService } from '@ferry/cloud';
import { testCloudOptions } from '../cloud/src/service/test-cloud.case.ts';

const [dataDir] = process.argv.slice(2) as [string];
const cloud = new CloudService({
  ...testCloudOptions({ dataDir }),
  functionRunner: 'in-process',
  // Job state is saved every check period; a long one leaves only the save each edge makes (AlarmRules.#unapplied).
  health: { checkPeriodMs: 60_000 },
  notify: { allowPrivateAddresses: true, tickMs: 20, retry: { initialMs: 1500, maxMs: 1500 } },
});
const { mqttUrl, httpUrl } = await cloud.start();
process.on('SIGTERM', () => void cloud.stop().then(() => process.exit(0)));
process.stdout.write(`ready ${mqttUrl} ${httpUrl}\n`);
