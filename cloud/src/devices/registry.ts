/**
 * @module Device identities and keys. Each device gets a random 256-bit HS256 key when it is added; the key
 * is shown once and stored only encrypted (AES-256-GCM, the device id as associated data so rows cannot be
 * swapped) under a master key that lives OUTSIDE the database (environment or a separate file). A leaked
 * database dump alone therefore does not let anyone sign as a device. `DeviceStore` is the storage port (the
 * SQLite one is storage/sqlite/device-store.ts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { KID_PATTERN, type HmacKey, type KeyLookup } from '@ferry/message';
import { downlinkKey, hmacKey, mqttPassword } from '@ferry/message/node';
import { DeviceError } from './errors.ts';

export interface DeviceRecord {
  readonly id: string;
  readonly namespace: string;
  /**
   * The function owner whose namespace `namespace` is (tokens/owners.ts), if any: the device's telemetry then
   * feeds that owner's namespace state, where the owner's functions read it. Set only by the owner (their
   * private token), so nobody can feed readings into someone else's namespace.
   */
  readonly owner?: string | null | undefined;
  readonly createdMs: number;
  /** A board (default) or a gateway, which may publish for the boards attached to it (docs/cloud.md, "MQTT"). */
  readonly kind?: DeviceKind | null | undefined;
  /** The gateway a board is attached to: that gateway may publish its uplink and read its downlink. */
  readonly gateway?: string | null | undefined;
  /** iv (12) | tag (16) | ciphertext (32) */
  readonly sealedKey: Uint8Array;
}

export type DeviceKind = 'device' | 'gateway';

/** What list() answers for one identity (no key). */
export interface DeviceInfo {
  readonly id: string;
  readonly namespace: string;
  readonly owner?: string;
  readonly kind: DeviceKind;
  readonly gateway?: string;
  readonly createdMs: number;
}

/** Told of every identity added or removed here (the MQTT broker's directory, the Mosquitto sync). */
export interface DeviceWatcher {
  added?(rec: DeviceInfo, key: Uint8Array): void;
  /** `rec`: what the identity was (its gateway, if a board). */
  removed?(id: string, rec: DeviceInfo): void;
}

export interface DeviceStore {
  put(rec: DeviceRecord): boolean;
  get(id: string): DeviceRecord | undefined;
  list(): DeviceRecord[];
  remove(id: string): boolean;
}

/**
 * The master key: FERRY_MASTER_KEY (hex) if set, else the file at `path`, created with mode 0600 on first
 * use. Keep that file off the database's backups.
 */
export function loadMasterKey(path: string, env: Record<string, string | undefined> = process.env): Uint8Array {
  const hex = env['FERRY_MASTER_KEY'] ?? (existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined);
  if (hex === undefined) {
    const key = randomBytes(32);
    writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    return key;
  }
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new DeviceError('FERRY_DEVICE_MASTER_KEY', 'the master key must be 32 bytes of hex');
  return Buffer.from(hex, 'hex');
}

/** A device key sealed under the master key: iv (12) | tag (16) | ciphertext, the device id as associated data. */
export function sealDeviceKey(masterKey: Uint8Array, id: string, key: Uint8Array): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', masterKey, iv);
  c.setAAD(Buffer.from(id));
  const ct = Buffer.concat([c.update(key), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]);
}

/** The device key, or undefined when it was sealed under another master key or for another id, or altered. */
export function openDeviceKey(masterKey: Uint8Array, id: string, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < 28) return undefined;
  const b = Buffer.from(sealed);
  const d = createDecipheriv('aes-256-gcm', masterKey, b.subarray(0, 12));
  d.setAAD(Buffer.from(id));
  d.setAuthTag(b.subarray(12, 28));
  try {
    return Buffer.concat([d.update(b.subarray(28)), d.final()]);
  } catch {
    return undefined;
  }
}

/** How long an unknown kid is remembered as unknown, and how many are remembered (docs/limits.md). */
export const MISS_TTL_MS = 2_000;
export const MAX_MISSES = 100_000;

export class DeviceRegistry {
  private readonly store: DeviceStore;
  private readonly master: Uint8Array;
  private readonly cache = new Map<string, HmacKey>();
  private readonly secrets = new Map<string, Uint8Array>();
  /**
   * Kids looked up and not found, until when (ms): a flood of messages naming unknown kids costs one store
   * lookup per kid per MISS_TTL_MS, not one per message. Short, so a device added by another worker (which
   * shares the store, not this map) is found within that time; add() here clears its entry at once.
   */
  private readonly misses = new Map<string, number>();
  /** Store lookups made by `keys` (tests and metrics). */
  lookups = 0;
  /** Namespace and owner by device: read on every telemetry message, so kept in memory (removal clears it). */
  private readonly namespaces = new Map<string, { namespace: string; owner: string | undefined }>();
  /** Downlink keys by device (downlinkKey below), derived once. */
  private readonly downlinkCache = new Map<string, HmacKey>();

  constructor(store: DeviceStore, masterKey: Uint8Array) {
    if (masterKey.length !== 32) throw new DeviceError('FERRY_DEVICE_MASTER_KEY', 'the master key must be 32 bytes');
    this.store = store;
    this.master = masterKey;
  }

  /**
   * Adds a device (or, with `kind: 'gateway'`, a gateway) with a fresh key; the returned key is not
   * retrievable later. A board may be attached to a registered gateway of the same owner.
   */
  add(
    id: string,
    namespace = 'default',
    nowMs = Date.now(),
    owner?: string,
    opts: { readonly kind?: DeviceKind; readonly gateway?: string } = {},
  ): { id: string; namespace: string; owner?: string; kind: DeviceKind; gateway?: string; key: string } {
    if (!KID_PATTERN.test(id)) throw new DeviceError('FERRY_DEVICE_BAD_ID', 'device ids are 1..32 characters of [A-Za-z0-9._-]');
    if (!KID_PATTERN.test(namespace)) throw new DeviceError('FERRY_DEVICE_BAD_ID', 'namespaces are 1..32 characters of [A-Za-z0-9._-]');
    const kind = opts.kind ?? 'device';
    if (kind !== 'device' && kind !== 'gateway') throw new DeviceError('FERRY_DEVICE_BAD_KIND', `kind must be 'device' or 'gateway', not ${String(kind)}`);
    const gateway = opts.gateway;
    if (gateway !== undefined) {
      if (kind !== 'device') throw new DeviceError('FERRY_DEVICE_BAD_GATEWAY', 'only a board can be attached to a gateway');
      const g = this.store.get(gateway);
      // Same owner: attaching a board to someone else's gateway would let that gateway publish as the board.
      if (g === undefined || g.kind !== 'gateway' || (g.owner ?? null) !== (owner ?? null))
        throw new DeviceError('FERRY_DEVICE_BAD_GATEWAY', `no gateway ${gateway} of the same owner to attach ${id} to`);
    }
    this.misses.delete(id);
    const key = randomBytes(32);
    const sealedKey = sealDeviceKey(this.master, id, key);
    if (!this.store.put({ id, namespace, createdMs: nowMs, sealedKey, owner: owner ?? null, kind, gateway: gateway ?? null }))
      throw new DeviceError('FERRY_DEVICE_EXISTS', `device ${id} exists; remove it first to re-key`);
    const info: DeviceInfo = { id, namespace, ...(owner !== undefined && { owner }), kind, ...(gateway !== undefined && { gateway }), createdMs: nowMs };
    for (const w of this.#watchers) w.added?.(info, key);
    return { id, namespace, ...(owner !== undefined && { owner }), kind, ...(gateway !== undefined && { gateway }), key: key.toString('hex') };
  }

  remove(id: string): void {
    this.cache.delete(id);
    this.secrets.delete(id);
    this.downlinkCache.delete(id);
    this.namespaces.delete(id);
    this.#passwords.delete(id);
    const before = this.store.get(id);
    if (before === undefined || !this.store.remove(id)) throw new DeviceError('FERRY_DEVICE_NOT_FOUND', `no device ${id}`);
    for (const w of this.#watchers) w.removed?.(id, infoOf(before));
  }

  readonly #watchers: DeviceWatcher[] = [];

  /** Tells `w` of every identity added or removed through this registry from now on. */
  watch(w: DeviceWatcher): void {
    this.#watchers.push(w);
  }

  list(): DeviceInfo[] {
    return this.store.list().map(infoOf);
  }

  /** One identity (no key), read from the store. */
  info(id: string): DeviceInfo | undefined {
    const r = this.store.get(id);
    return r === undefined ? undefined : infoOf(r);
  }

  /** MQTT passwords by id, derived once from the unsealed key (bounded like the key cache: one per device). */
  readonly #passwords = new Map<string, string>();

  /** The identity's MQTT password (mqttPassword of its key), or undefined for an unknown id. */
  mqttPasswordOf(id: string): string | undefined {
    const hit = this.#passwords.get(id);
    if (hit !== undefined) return hit;
    const key = this.secretOf(id);
    if (key === undefined) return undefined;
    const p = mqttPassword(key, id);
    this.#passwords.set(id, p);
    return p;
  }

  namespaceOf(id: string): string | undefined {
    return this.placeOf(id)?.namespace;
  }

  /** The device's namespace and the owner it belongs to (undefined: a namespace outside the function owners'). */
  placeOf(id: string): { namespace: string; owner: string | undefined } | undefined {
    const hit = this.namespaces.get(id);
    if (hit !== undefined) return hit;
    const r = this.store.get(id);
    if (r === undefined) return undefined;
    const place = { namespace: r.namespace, owner: typeof r.owner === 'string' ? r.owner : undefined };
    this.namespaces.set(id, place);
    return place;
  }

  /** The key lookup ingest verifies with (keys are unsealed once and cached). */
  readonly keys: KeyLookup = (kid) => {
    const hit = this.cache.get(kid);
    if (hit !== undefined) return hit;
    const key = this.secretOf(kid);
    if (key === undefined) return undefined;
    const k = hmacKey(key);
    this.cache.set(kid, k);
    return k;
  };

  /**
   * The device's key itself, for the keys derived from it (HKDF with a purpose of their own, such as the
   * gateway control channel's): never handed to anything outside this process.
   */
  readonly secretOf = (kid: string): Uint8Array | undefined => {
    const hit = this.secrets.get(kid);
    if (hit !== undefined) return hit;
    const now = Date.now();
    const missUntil = this.misses.get(kid);
    if (missUntil !== undefined && missUntil > now) return undefined;
    this.lookups++;
    const rec = this.store.get(kid);
    if (rec === undefined) {
      if (this.misses.size >= MAX_MISSES) this.misses.delete(this.misses.keys().next().value!);
      this.misses.set(kid, now + MISS_TTL_MS);
      return undefined;
    }
    this.misses.delete(kid);
    const key = openDeviceKey(this.master, kid, rec.sealedKey);
    if (key === undefined) return undefined; // sealed under another master key, or tampered with: the device cannot verify
    this.secrets.set(kid, key);
    return key;
  };

  /**
   * The key the cloud signs what it sends device `id` with (docs/message-format.md "Downlink"): HKDF of its
   * device key, never the device key itself. Unsealed and derived once, then cached; undefined for an unknown
   * device or a key that does not unseal.
   */
  downlinkKey(id: string): HmacKey | undefined {
    const hit = this.downlinkCache.get(id);
    if (hit !== undefined) return hit;
    const key = this.secretOf(id); // unknown (remembered as a miss), or not unsealable: undefined
    if (key === undefined) return undefined;
    const k = downlinkKey(key, id);
    this.downlinkCache.set(id, k);
    return k;
  }
}

const infoOf = ({ id, namespace, owner, kind, gateway, createdMs }: DeviceRecord): DeviceInfo => ({
  id,
  namespace,
  ...(typeof owner === 'string' && { owner }),
  kind: kind === 'gateway' ? 'gateway' : 'device',
  ...(typeof gateway === 'string' && { gateway }),
  createdMs,
});
