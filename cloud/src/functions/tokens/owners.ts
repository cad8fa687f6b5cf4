/**
 * @module Owners: registration of a private token and the two lookups every call needs (is this the
 * owner's private token? which key verifies this owner's public tokens?). `OwnerStore` is the storage
 * port (SQLite or Redis later; synchronous because it sits on the call path and is cached in process).
 */
import { hmacKey } from '@ferry/message/node';
import type { HmacKey } from '@ferry/message';
import { fnFail, fnOk, type FnResult } from '@ferry/wasm-host';
import { derivePublicSigningSecret, parsePrivateToken, privateVerifier, sameBytes } from './private-token.ts';

export interface OwnerRecord {
  readonly owner: string;
  /** SHA-256 of the private secret. */
  readonly verifier: Uint8Array;
  /** HKDF of the private secret: verifies the owner's public tokens. */
  readonly signingSecret: Uint8Array;
  readonly registeredAtMs: number;
}

export interface OwnerStore {
  get(owner: string): OwnerRecord | undefined;
  /** Stores a new owner; false when the id is taken (atomic: a unique row / SET NX). */
  insert(record: OwnerRecord): boolean;
}

export class MemoryOwnerStore implements OwnerStore {
  private readonly map = new Map<string, OwnerRecord>();
  get(owner: string): OwnerRecord | undefined {
    return this.map.get(owner);
  }
  insert(record: OwnerRecord): boolean {
    if (this.map.has(record.owner)) return false;
    this.map.set(record.owner, record);
    return true;
  }
}

export class Owners {
  private readonly store: OwnerStore;
  private readonly nowMs: () => number;
  private readonly keys = new Map<string, HmacKey>();
  /** Private tokens already authenticated (parse + SHA-256 cost ~15 µs; a hit ~0.1 µs). Bounded. */
  private readonly authenticated = new Map<string, string>();

  constructor(opts: { store?: OwnerStore; nowMs?: () => number } = {}) {
    this.store = opts.store ?? new MemoryOwnerStore();
    this.nowMs = opts.nowMs ?? Date.now;
  }

  /** Registers a private token the user generated (generatePrivateToken); anyone may register. */
  register(privateToken: string): FnResult<{ owner: string }> {
    const p = parsePrivateToken(privateToken);
    if (!p.ok) return p;
    const { owner, secret } = p.value;
    const record = { owner, verifier: privateVerifier(secret), signingSecret: derivePublicSigningSecret(secret, owner), registeredAtMs: this.nowMs() };
    if (!this.store.insert(record)) return fnFail('FERRY_FN_OWNER_EXISTS', `owner ${owner} is already registered`);
    return fnOk({ owner });
  }

  /** The owner a private token belongs to, if it is the registered one (constant-time compare). */
  authenticate(privateToken: string): FnResult<string> {
    const hit = this.authenticated.get(privateToken);
    if (hit !== undefined) return fnOk(hit);
    const p = parsePrivateToken(privateToken);
    if (!p.ok) return p;
    const rec = this.store.get(p.value.owner);
    if (rec === undefined || !sameBytes(rec.verifier, privateVerifier(p.value.secret))) return fnFail('FERRY_FN_BAD_TOKEN', 'unknown private token');
    if (this.authenticated.size >= 1024) this.authenticated.clear();
    this.authenticated.set(privateToken, rec.owner);
    return fnOk(rec.owner);
  }

  /** The key that verifies `owner`'s public tokens, cached (hmacKey precomputes the padded key). */
  publicKey(owner: string): HmacKey | undefined {
    const cached = this.keys.get(owner);
    if (cached !== undefined) return cached;
    const rec = this.store.get(owner);
    if (rec === undefined) return undefined;
    const key = hmacKey(rec.signingSecret);
    this.keys.set(owner, key);
    return key;
  }
}
