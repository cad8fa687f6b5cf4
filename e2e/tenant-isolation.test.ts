/**
 * Tenant isolation, proven: owner alice against owner bob over every surface, each attempt refused and the
 * same action on alice's own object allowed (e2e/isolation/). The rows run against the embedded cloud (aedes +
 * SQLite); the MQTT rows also against Mosquitto with its dynamic-security plugin. Add a row whenever a
 * surface is added.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudService } from '@ferry/cloud';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { HTTP_ROWS, tenant, type Tenant } from './isolation/http-rows.ts';

describe('tenant isolation (embedded cloud)', () => {
  let svc: CloudService;
  let api = '';
  let alice: Tenant;
  let bob: Tenant;
  beforeAll(async () => {
    svc = new CloudService({
      adminToken: ADMIN_TOKEN,
      dataDir: mkdtempSync(join(tmpdir(), 'ferry-isolation-')),
      mqttPort: 0,
      httpPort: 0,
      log: () => undefined,
      functionRunner: 'in-process',
    });
    api = (await svc.start()).httpUrl;
    alice = await tenant(api, 'alice');
    bob = await tenant(api, 'bob');
  }, 60_000);
  afterAll(async () => {
    await svc.stop();
  });

  for (const row of HTTP_ROWS) {
    it(`HTTP ${row.surface}: ${row.attempt}`, async () => {
      expect(await row.refused(api, alice, bob)).toBeUndefined();
      if (row.own !== undefined) expect(await row.own(api, alice, bob)).toBeUndefined();
    }, 20_000);
  }
});
