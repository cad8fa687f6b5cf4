/**
 * @module Test support for the command tests: a cloud on loopback with one owner's devices, a helper that
 * connects a lightweight device (@ferry/test-kit/command-device) and one that calls the API.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { CommandDevice, type CommandDeviceOptions } from '@ferry/test-kit/command-device';
import { CloudService, type CloudOptions } from '../service/service.ts';
import type { CommandEvent } from './service.ts';

export interface TestCloud {
  readonly cloud: CloudService;
  readonly mqttUrl: string;
  readonly api: string;
  readonly dataDir: string;
  readonly events: CommandEvent[];
  readonly keys: Map<string, string>;
  add(id: string, o?: { owner?: string; namespace?: string }): string;
  device(id: string, o?: Partial<CommandDeviceOptions>): Promise<CommandDevice>;
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export async function testCloud(o: Partial<CloudOptions> = {}, dataDir = mkdtempSync(join(tmpdir(), 'ferry-cmd-'))): Promise<TestCloud> {
  const events: CommandEvent[] = [];
  const cloud = new CloudService({
    dataDir,
    mqttPort: 0,
    httpPort: 0,
    adminToken: ADMIN_TOKEN,
    functionRunner: 'in-process',
    log: () => undefined,
    ...o,
  });
  // The commands' events reach the notifier through CloudService.notify: heard here on their way.
  const notify = cloud.notify.bind(cloud);
  cloud.notify = (e) => {
    if (e.kind.startsWith('command.')) events.push(e as CommandEvent);
    notify(e);
  };
  const { mqttUrl, httpUrl } = await cloud.start();
  const keys = new Map<string, string>();
  const devices: CommandDevice[] = [];
  const t: TestCloud = {
    cloud,
    mqttUrl,
    api: httpUrl,
    dataDir,
    events,
    keys,
    add: (id, a = {}) => {
      const k = keys.get(id) ?? cloud.devices.add(id, a.namespace ?? 'home', Date.now(), a.owner ?? 'alice').key;
      keys.set(id, k);
      return k;
    },
    device: async (id, d = {}) => {
      const dev = await CommandDevice.connect({ url: mqttUrl, id, key: keys.get(id) ?? t.add(id), ...d });
      devices.push(dev);
      return dev;
    },
    call: async (method, path, body, token = ADMIN_TOKEN) => {
      const r = await fetch(`${httpUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      return { status: r.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
    },
    stop: async () => {
      for (const d of devices) await d.close(true);
      await cloud.stop();
    },
  };
  return t;
}

/** Polls `f` until it holds (every 25 ms) or throws after `timeoutMs`. */
export async function until(f: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
