/**
 * @module An embedded cloud for tests: the options most tests start a `CloudService` with, and a start that
 * hands back its URLs and a stop. Test support (a `*.case.ts` file): tests of the cloud, the CLI and e2e import
 * it by relative path. It sits beside the service rather than in `@ferry/test-kit`, so the cloud's own tests
 * do not reach their service back through the kit and the cloud package's exports.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { type CloudOptions, CloudService } from './service.ts';

/** Any `CloudOptions` to set or override, and `name`, which names the temporary data dir (`ferry-<name>-…`). */
export type TestCloudOptions = Partial<CloudOptions> & { readonly name?: string };

export interface TestCloud {
  readonly svc: CloudService;
  readonly mqttUrl: string;
  readonly httpUrl: string;
  readonly dataDir: string;
  /** Stops the cloud; a second call does nothing, so a test may stop it early and still leave it to a cleanup. */
  readonly stop: () => Promise<void>;
}

/**
 * A test cloud's options: the test admin credential (`ADMIN_TOKEN` of @ferry/test-kit/http), a fresh
 * temporary data dir, ports the system picks on loopback, a silent log; then `o` over them. The function
 * runner stays the service's default (the worker-thread pool) unless `o` names one: `'in-process'` is quicker
 * but cannot stop a runaway function, so each test says whether it wants it.
 */
export function testCloudOptions(o: TestCloudOptions = {}): CloudOptions {
  const { name = 'cloud', ...rest } = o;
  return {
    adminToken: ADMIN_TOKEN,
    dataDir: rest.dataDir ?? mkdtempSync(join(tmpdir(), `ferry-${name}-`)),
    mqttPort: 0,
    httpPort: 0,
    log: () => undefined,
    ...rest,
  };
}

/** Makes and starts a cloud on `testCloudOptions(o)`; a cloud that fails to start is stopped before the error is thrown. */
export async function startTestCloud(o: TestCloudOptions = {}): Promise<TestCloud> {
  const opts = testCloudOptions(o);
  const svc = new CloudService(opts);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= svc.stop();
    return stopped;
  };
  try {
    const urls = await svc.start();
    return { svc, ...urls, dataDir: opts.dataDir, stop };
  } catch (e) {
    await stop().catch(() => undefined); // the start's error is the one to report
    throw e;
  }
}

/** Adds devices to the cloud's registry in `namespace`, each with its owner (none: unowned); their keys (hex) by id. */
export function addDevices(svc: CloudService, devices: readonly (readonly [id: string, owner?: string])[], namespace = 'home'): Map<string, string> {
  return new Map(devices.map(([id, owner]) => [id, svc.devices.add(id, namespace, Date.now(), owner).key]));
}
