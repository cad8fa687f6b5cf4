/**
 * @module Who is connecting to the embedded broker: a device or gateway of the registry, whose MQTT password
 * is derived from its key (mqttPassword), or a cloud worker with a configured or per-process credential. The
 * answer is an ACL identity (acl.ts). A client's id is bound to its user name: a device or gateway connects
 * with its own id as client id, a worker with any id that starts with its user name, so nobody can take over
 * (and so cut off) another identity's session by reusing its client id.
 */
import { randomBytes } from 'node:crypto';
import { sameBytes } from '../functions/tokens/private-token.ts';
import { sha256 } from '../identity/credentials.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Identity } from './acl.ts';

export interface MqttCredential {
  readonly username: string;
  readonly password: string;
}

/** Why a CONNECT was refused: the CONNACK return code (MQTT 3.1.1 §3.2.2.3) and the log line. */
export type Refusal = { readonly returnCode: 2 | 4 | 5; readonly why: string };

/** A fresh worker credential for this process's own connections to its embedded broker. */
export function processWorkerCredential(): MqttCredential {
  return { username: `ferry-worker-${randomBytes(6).toString('hex')}`, password: randomBytes(24).toString('base64url') };
}

/** Constant-time: equal-length digests, so neither the length nor the first differing byte shows in the timing. */
export function sameSecret(given: string, expected: string): boolean {
  return sameBytes(sha256(given), sha256(expected));
}

export class MqttDirectory {
  readonly #devices: DeviceRegistry;
  readonly #workers: readonly MqttCredential[];
  /** Boards by gateway, rebuilt after any change of the registry (one list() per gateway connection at most). */
  #boards: Map<string, string[]> | undefined;

  constructor(devices: DeviceRegistry, workers: readonly MqttCredential[]) {
    this.#devices = devices;
    this.#workers = workers;
    devices.watch({ added: () => this.changed(), removed: () => this.changed() });
  }

  /** Forgets what it derived from the registry (a device added or removed). */
  changed(): void {
    this.#boards = undefined;
  }

  /** The identity a CONNECT proves, or why it is refused. Anonymous (no user name) is refused. */
  authenticate(clientId: string, username: string | undefined, password: string | undefined): Identity | Refusal {
    if (username === undefined || username === '' || password === undefined) return { returnCode: 5, why: 'anonymous connection refused' };
    for (const w of this.#workers) {
      if (w.username !== username) continue;
      if (!sameSecret(password, w.password)) return { returnCode: 4, why: `bad password for ${username}` };
      if (!clientId.startsWith(username)) return { returnCode: 2, why: `client id ${clientId} does not start with its user name ${username}` };
      return { kind: 'worker', id: username };
    }
    const expected = this.#devices.mqttPasswordOf(username);
    // An unknown user is compared against a throwaway secret, so its timing matches a wrong password's.
    if (!sameSecret(password, expected ?? 'unknown user') || expected === undefined) return { returnCode: 4, why: `bad user name or password (${username})` };
    if (clientId !== username) return { returnCode: 2, why: `client id ${clientId} is not its user name ${username}` };
    return this.identityOf(username) ?? { returnCode: 4, why: `no identity ${username}` };
  }

  /** The current identity of a registered device or gateway (a gateway's boards as the registry has them now). */
  identityOf(id: string): Identity | undefined {
    const d = this.#devices.info(id);
    if (d === undefined) return undefined;
    if (d.kind === 'gateway') return { kind: 'gateway', id, boards: this.#boardsOf(id) };
    return { kind: 'device', id, namespace: d.namespace, ...(d.gateway !== undefined && { gateway: d.gateway }) };
  }

  #boardsOf(gateway: string): string[] {
    if (this.#boards === undefined) {
      const m = new Map<string, string[]>();
      for (const d of this.#devices.list()) if (d.gateway !== undefined) m.set(d.gateway, [...(m.get(d.gateway) ?? []), d.id]);
      this.#boards = m;
    }
    return this.#boards.get(gateway) ?? [];
  }
}

export const isRefusal = (x: Identity | Refusal): x is Refusal => 'returnCode' in x;
