/**
 * A cloud worker process for the command fault test (e2e/command-kill.test.ts): `ferry cloud start` in
 * scale-out, but with a short visibility timeout and sweep (CloudOptions.commands, which the CLI does not
 * expose), so what a killed worker left `sent` comes back within the test. Args: <id> <dataDir> <mqttUrl>
 * <redisUrl>. Prints the "ferry cloud:" line with the HTTP URL.
 */
import { CloudService } from '@ferry/cloud';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';

const [id, dataDir, mqttUrl, redisUrl] = process.argv.slice(2);
if (id === undefined || dataDir === undefined || mqttUrl === undefined || redisUrl === undefined)
  throw new Error('usage: worker.ts <id> <dataDir> <mqttUrl> <redisUrl>');
const cloud = new CloudService({
  dataDir,
  mqttUrl,
  shared: true,
  redisUrl,
  clientId: id,
  httpPort: 0,
  adminToken: ADMIN_TOKEN,
  functionRunner: 'in-process',
  commands: { visibilityMs: 10_000, sweepMs: 100 },
});
await cloud.start();
process.on('SIGTERM', () => void cloud.stop().then(() => process.exit(0)));
