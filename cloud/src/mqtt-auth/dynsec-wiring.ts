/**
 * @module Scale-out on Mosquitto (docs/security.md "MQTT"): the dynamic-security plugin learns every identity
 * the device registry adds or removes, one change at a time and in order, after a first full sync at start.
 * A change that fails is logged; the next full sync (a restart) repairs it.
 */
import { mqttPassword } from '@ferry/message/node';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { MqttCredential, MqttDirectory } from './directory.ts';
import { DynsecSync } from './dynsec.ts';

export interface DynsecWiringParts {
  readonly url: string;
  /** The plugin's admin credential. */
  readonly admin: MqttCredential;
  readonly prefix: string;
  readonly devices: DeviceRegistry;
  readonly directory: MqttDirectory;
  /** The cloud workers' own credentials, given the worker role. */
  readonly workers: readonly MqttCredential[];
  readonly log: (m: string) => void;
}

export class DynsecWiring {
  readonly #p: DynsecWiringParts;
  #sync: DynsecSync | undefined;
  #queue: Promise<void> = Promise.resolve();

  /** Watches the registry from now on; changes made before start() wait for it. */
  constructor(p: DynsecWiringParts) {
    this.#p = p;
    const later = (what: string, f: (sync: DynsecSync) => Promise<void>): void => {
      this.#queue = this.#queue.then(async () => {
        if (this.#sync !== undefined) await f(this.#sync).catch((e: unknown) => p.log(`dynsec: ${what}: ${e instanceof Error ? e.message : String(e)}`));
      });
    };
    p.devices.watch({
      added: (rec, key) => later(`adding ${rec.id}`, (sync) => sync.deviceAdded(rec, mqttPassword(key, rec.id))),
      removed: (id, rec) => later(`removing ${id}`, (sync) => sync.deviceRemoved(id, rec.gateway)),
    });
  }

  /** Connects as the plugin's admin and syncs every identity; the worker's own must exist before it connects. */
  async start(): Promise<void> {
    const p = this.#p;
    const sync = await DynsecSync.connect({ url: p.url, admin: p.admin, prefix: p.prefix, identityOf: (id) => p.directory.identityOf(id), log: p.log });
    this.#sync = sync;
    const devices = p.devices.list().map((d) => ({ id: d.id, password: p.devices.mqttPasswordOf(d.id) }));
    await sync.syncAll(devices, p.workers);
  }

  /** Resolves once the plugin has every registry change made so far. */
  async settled(): Promise<void> {
    await this.#queue;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#sync?.close();
  }
}
