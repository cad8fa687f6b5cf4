import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { mosquittoDynsecAvailable, startMosquittoDynsec } from '@ferry/test-kit/brokers';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { CloudService } from '../service/service.ts';
import { aclMatrix } from './acl-matrix.case.ts';

// The cloud in scale-out mode on Mosquitto (state in SQLite: no Redis needed for what this checks), keeping
// the dynamic-security plugin in step with its registry.
if (mosquittoDynsecAvailable())
  aclMatrix(
    'Mosquitto + dynamic-security',
    async () => {
      const broker = await startMosquittoDynsec();
      const worker = { username: 'ferry-worker-acl', password: 'acl-matrix-worker-secret' };
      const cloud = new CloudService({
        dataDir: mkdtempSync(join(tmpdir(), 'ferry-acl-mosq-')),
        mqttUrl: broker.url,
        httpPort: 0,
        log: () => undefined,
        mqttUsername: worker.username,
        mqttPassword: worker.password,
        mqttDynsec: broker.admin,
      });
      await cloud.start();
      return {
        url: broker.url,
        cloud,
        worker: () => workerLogin(worker),
        settle: () => cloud.mqttSettled(),
        stop: async () => {
          await cloud.stop();
          await broker.stop();
        },
      };
    },
    // Mosquitto delivers what it accepts; the cloud reads the uplink as one subscriber among the workers (only
    // workers may subscribe to it), so a refused uplink is dropped by each worker's ingest, not by the broker.
    { uplinkVerdictRouting: false },
  );
else if (process.env['CI'] === 'true')
  it('Mosquitto with its dynamic-security plugin and mosquitto_ctrl are installed in CI', () => expect(mosquittoDynsecAvailable()).toBe(true));
else it.skip('Mosquitto with its dynamic-security plugin is not installed', () => undefined);
