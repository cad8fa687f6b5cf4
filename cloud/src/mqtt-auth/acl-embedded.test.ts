import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { CloudService } from '../service/service.ts';
import { aclMatrix } from './acl-matrix.case.ts';

aclMatrix(
  'embedded aedes',
  async () => {
    const cloud = new CloudService({ dataDir: mkdtempSync(join(tmpdir(), 'ferry-acl-')), mqttPort: 0, httpPort: 0, log: () => undefined });
    const { mqttUrl } = await cloud.start();
    return { url: mqttUrl, cloud, worker: () => workerLogin(cloud.mqttCredential), settle: async () => undefined, stop: () => cloud.stop() };
  },
  { uplinkVerdictRouting: true },
);
