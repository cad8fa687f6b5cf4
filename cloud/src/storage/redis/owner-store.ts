/**
 * @module Function owners on Redis (scale-out): the OwnerStore port, first registration wins across workers,
 * and the Owners that re-check an owner whose record another worker replaced.
 */
import { hmacKey } from '@ferry/message/node';
import type { HmacKey } from '@ferry/message';
import { fnFail, type FnResult } from '@ferry/wasm-host';
import { StoreError } from '../errors.ts';
import { SecretSealer } from '../../functions/tokens/sealed-secret.ts';
import { Owners, type OwnerRecord, type OwnerStore } from '../../functions/tokens/owners.ts';
import { parsePrivateToken, privateVerifier, sameBytes } from '../../functions/tokens/private-token.ts';
import { b64, bytesOf, unb64, type Change, type Replicator } from './replicator.ts';

/** HSETNX, announced only when this one won: the owner id stays first-one-wins across workers. */
const INSERT_OWNER = `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('PUBLISH', ARGV[3], ARGV[4]) return 1 end return 0`;

/** One owner as stored: JSON of the verifier, the sealed signing secret and the registration time. */
interface StoredOwner {
  readonly v: string;
  readonly s: string;
  readonly t: number;
}

/**
 * Owners in the hash `<prefix>fn:owners` (field = owner id), the signing secret sealed with a key derived from
 * the master key (HKDF, label 'ferry owner signing secret', AES-256-GCM, the owner id as associated data: the
 * same sealing as SqliteOwnerStore). A record sealed under another master key reads as absent and keeps its id.
 */
export class RedisOwnerStore implements OwnerStore {
  readonly #sealer: SecretSealer;
  readonly #r: Replicator;
  /** undefined: the id is taken by a record this worker cannot open. */
  #map = new Map<string, OwnerRecord | undefined>();
  /** Owners whose local record was replaced by another worker's (a lost race): see RedisOwners. */
  readonly contested = new Set<string>();

  constructor(r: Replicator, masterKey: Uint8Array) {
    if (masterKey.length !== 32) throw new StoreError('FERRY_STORE_CONFIG', 'the master key must be 32 bytes');
    this.#sealer = new SecretSealer(masterKey);
    this.#r = r;
  }

  get(owner: string): OwnerRecord | undefined {
    return this.#map.get(owner);
  }

  /** Answers from the local copy (first one wins across workers: see the module comment for the window). */
  insert(r: OwnerRecord): boolean {
    if (this.#map.has(r.owner)) return false;
    this.#map.set(r.owner, { owner: r.owner, verifier: bytesOf(r.verifier), signingSecret: bytesOf(r.signingSecret), registeredAtMs: r.registeredAtMs });
    const rec = JSON.stringify({ v: b64(r.verifier), s: b64(this.#sealer.seal(r.owner, r.signingSecret)), t: r.registeredAtMs } satisfies StoredOwner);
    const change: Change = { o: this.#r.origin, k: 'owner', owner: r.owner, rec };
    const redis = this.#r.redis;
    this.#r.track(
      redis
        .eval(INSERT_OWNER, 1, this.#r.keys.owners, r.owner, rec, this.#r.keys.channel, JSON.stringify(change))
        .then(async (won) => {
          if (won === 1) return;
          // Another worker registered the id first: adopt its record.
          const winner = await redis.hget(this.#r.keys.owners, r.owner);
          if (winner !== null) this.#adopt(r.owner, winner);
        })
        .catch((e: unknown) => this.#r.onError(new StoreError('FERRY_STORE_UNAVAILABLE', `redis owner store: ${r.owner} not stored: ${String(e)}`))),
    );
    return true;
  }

  /** The whole hash, at load. */
  replaceAll(rows: Record<string, string>): void {
    const map = new Map<string, OwnerRecord | undefined>();
    for (const [owner, rec] of Object.entries(rows)) map.set(owner, this.#decode(owner, rec));
    for (const [owner, before] of this.#map) {
      const after = map.get(owner);
      if (before !== undefined && after !== undefined && !sameBytes(before.verifier, after.verifier)) this.contested.add(owner);
    }
    this.#map = map;
  }

  /** Another worker's announcement: it won its HSETNX. */
  applyRemote(owner: string, rec: string): void {
    const mine = this.#map.get(owner);
    const theirs = this.#decode(owner, rec);
    if (mine !== undefined && theirs !== undefined && sameBytes(mine.verifier, theirs.verifier)) return;
    this.#adopt(owner, rec);
  }

  #adopt(owner: string, rec: string): void {
    if (this.#map.has(owner)) this.contested.add(owner);
    this.#map.set(owner, this.#decode(owner, rec));
  }

  #decode(owner: string, rec: string): OwnerRecord | undefined {
    try {
      const o = JSON.parse(rec) as StoredOwner;
      const signingSecret = this.#sealer.open(owner, Buffer.from(o.s, 'base64'));
      return signingSecret === undefined ? undefined : { owner, verifier: unb64(o.v), signingSecret, registeredAtMs: o.t };
    } catch {
      return undefined;
    }
  }
}

/**
 * Owners whose record another worker replaced (a lost registration race) bypass the caches of Owners, which
 * may still hold the losing record's token or key; every other owner keeps the cached fast path.
 */
export class RedisOwners extends Owners {
  readonly #store: RedisOwnerStore;

  constructor(store: RedisOwnerStore, nowMs: () => number) {
    super({ store, nowMs });
    this.#store = store;
  }

  override authenticate(privateToken: string): FnResult<string> {
    const r = super.authenticate(privateToken);
    if (!r.ok || !this.#store.contested.has(r.value)) return r;
    const p = parsePrivateToken(privateToken);
    const rec = this.#store.get(r.value);
    if (!p.ok || rec === undefined || !sameBytes(rec.verifier, privateVerifier(p.value.secret))) return fnFail('FERRY_FN_BAD_TOKEN', 'unknown private token');
    return r;
  }

  override publicKey(owner: string): HmacKey | undefined {
    if (!this.#store.contested.has(owner)) return super.publicKey(owner);
    const rec = this.#store.get(owner);
    return rec === undefined ? undefined : hmacKey(rec.signingSecret);
  }
}
