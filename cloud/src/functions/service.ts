/**
 * @module The transport-agnostic call protocol (after the FaaS paper: devices call functions by content
 * hash, docs/functions.md). handleCall is a list of small named steps: check the request ->
 * authenticate the token -> authorize the namespace -> rate limit -> check the white-list -> find the
 * module (else FERRY_FN_MODULE_NEEDED: upload and retry) -> check memory quota, export and args -> run.
 * Public tokens are rate limited per token and checked against the white-list; the owner's private token
 * skips the white-list and is rate limited per owner. Uploads are charged to the owner's module quota.
 * The default runner is in process (fast, no preemption); a service open to untrusted modules passes
 * a PoolRunner (worker processes, fair between owners).
 */
import { convertArgs, fnFail, fnOk, resultTypeOf, type ArgValue, type FnResult, type KeyValueState, type RunOutput } from '@ferry/wasm-host';
import { NAMESPACE_PATTERN, verifyPublicToken, type PublicClaims } from './tokens/public-token.ts';
import { isPrivateToken } from './tokens/private-token.ts';
import type { Principal } from './tokens/principal.ts';
import { Owners } from './tokens/owners.ts';
import { MemoryRevocationList, type RevocationList } from './tokens/revocation.ts';
import { TokenBuckets } from '@ferry/base';
import { MemoryNamespaceStore, MemoryWhitelist, type NamespaceStore, type Whitelist } from './namespaces/namespace-store.ts';
import { InProcessRunner } from './in-process-runner.ts';
import { HASH_PATTERN, ModuleRegistry, sha256Hex } from './registry.ts';
import { CallStats } from './call-stats.ts';
import { DEFAULT_MODULE_QUOTA, MemoryModuleLedger, reserveModule, type ModuleLedger, type ModuleQuota } from './module-quota.ts';
import { systemClock, type Clock, type Runner } from './runner.ts';
import type { ScheduleCalls } from './schedules/scheduler.ts';

export interface CallRequest {
  readonly hash: string;
  readonly export: string;
  readonly args: readonly ArgValue[];
  readonly namespace: string;
  readonly token: string;
  /**
   * An owner the HTTP layer already authenticated (an API token or session with the operator role, or the
   * owner's private token as Bearer): used when `token` is empty; the call acts with the owner's rights.
   */
  readonly asOwner?: string | undefined;
  /**
   * The identity the call came from, when its transport proves one (a device's own MQTT call topic, which only
   * it may publish on): a public token must then name it as its subject, so a token captured from one device
   * cannot be used by another.
   */
  readonly boundTo?: string | undefined;
}

export interface ServiceOptions {
  readonly registry?: ModuleRegistry;
  readonly owners?: Owners;
  readonly namespaces?: NamespaceStore;
  readonly whitelist?: Whitelist;
  readonly revocations?: RevocationList;
  readonly buckets?: TokenBuckets;
  readonly runner?: Runner;
  readonly clock?: Clock;
  /** The dev.sign key for a caller; without one dev.sign returns UNAVAILABLE. */
  readonly signSecretFor?: (owner: string, callerId: string) => Uint8Array | undefined;
  /** Verified public tokens remembered (signature and shape only; expiry and revocation are re-checked every call). */
  readonly tokenCacheSize?: number;
  /** Calls and uploads with an owner's private token, per owner (default 1000/s, burst 1000); public tokens carry their own. */
  readonly ownerRate?: { readonly perSecond: number; readonly burst: number };
  /** Modules one owner may upload: count and total bytes (default DEFAULT_MODULE_QUOTA). */
  readonly moduleQuota?: ModuleQuota;
  /** Who uploaded which module (default in memory). */
  readonly moduleLedger?: ModuleLedger;
}

export const DEFAULT_OWNER_RATE = { perSecond: 1000, burst: 1000 } as const;

const EXPORT_NAME = /^[\x21-\x7e]{1,128}$/;
const MAX_ARGS = 64;

export class FunctionService implements ScheduleCalls {
  readonly registry: ModuleRegistry;
  readonly owners: Owners;
  readonly namespaces: NamespaceStore;
  readonly whitelist: Whitelist;
  readonly revocations: RevocationList;
  readonly runner: Runner;
  readonly moduleLedger: ModuleLedger;
  private readonly moduleQuota: ModuleQuota;
  private readonly ownerRate: { readonly perSecond: number; readonly burst: number };
  private readonly buckets: TokenBuckets;
  private readonly clock: Clock;
  private readonly signSecretFor: ServiceOptions['signSecretFor'];
  private readonly tokenCache = new Map<string, PublicClaims>();
  private readonly tokenCacheSize: number;
  /** Calls per (owner, hash), for GET /api/v1/functions (call-stats.ts). */
  readonly callStats = new CallStats();

  constructor(opts: ServiceOptions = {}) {
    this.clock = opts.clock ?? systemClock();
    const nowMs = (): number => this.clock.nowMs();
    this.registry = opts.registry ?? new ModuleRegistry();
    this.owners = opts.owners ?? new Owners({ nowMs });
    this.namespaces = opts.namespaces ?? new MemoryNamespaceStore();
    this.whitelist = opts.whitelist ?? new MemoryWhitelist();
    this.revocations = opts.revocations ?? new MemoryRevocationList(nowMs);
    this.buckets = opts.buckets ?? new TokenBuckets({ nowMs });
    this.runner = opts.runner ?? new InProcessRunner({ clock: this.clock });
    this.signSecretFor = opts.signSecretFor;
    this.tokenCacheSize = opts.tokenCacheSize ?? 10_000;
    this.ownerRate = opts.ownerRate ?? DEFAULT_OWNER_RATE;
    this.moduleQuota = opts.moduleQuota ?? DEFAULT_MODULE_QUOTA;
    this.moduleLedger = opts.moduleLedger ?? new MemoryModuleLedger();
  }

  register(privateToken: string): FnResult<{ owner: string }> {
    return this.owners.register(privateToken);
  }

  /**
   * Any valid token for the namespace may upload (a device answering FERRY_FN_MODULE_NEEDED); the module
   * is checked against the namespace's page quota and charged to the owner's module quota. The upload pays
   * from the token's (or the owner's) call bucket, since validating and compiling a module costs more than
   * a call.
   */
  async upload(req: {
    readonly bytes: Uint8Array;
    readonly token: string;
    readonly namespace: string;
    readonly asOwner?: string | undefined;
  }): Promise<FnResult<{ hash: string }>> {
    const p = this.authorize(req.token, req.namespace, req.asOwner);
    if (!p.ok) return p;
    const limited = this.rateLimit(p.value);
    if (!limited.ok) return limited;
    const quota = this.namespaces.quota(p.value.owner, req.namespace);
    // The size limit first: a module the registry refuses anyway is neither hashed twice nor charged.
    if (req.bytes.length > this.registry.maxBytes) return this.registry.upload(req.bytes, quota);
    const charged = reserveModule(this.moduleLedger, this.moduleQuota, p.value.owner, sha256Hex(req.bytes), req.bytes.length);
    if (!charged.ok) return charged;
    const r = await this.registry.upload(req.bytes, quota);
    if (!r.ok) charged.value.release();
    return r;
  }

  /** The owner white-lists (or, with allowed=false, removes) a hash for a namespace of theirs. */
  setWhitelisted(privateToken: string, namespace: string, hash: string, allowed: boolean): FnResult<void> {
    const o = this.owners.authenticate(privateToken);
    return o.ok ? this.setWhitelistedAs(o.value, namespace, hash, allowed) : o;
  }

  /** The same for an owner the HTTP layer authenticated (an admin API token of theirs). */
  setWhitelistedAs(owner: string, namespace: string, hash: string, allowed: boolean): FnResult<void> {
    if (!NAMESPACE_PATTERN.test(namespace) || !HASH_PATTERN.test(hash)) return fnFail('FERRY_FN_BAD_REQUEST', 'bad namespace or hash');
    if (allowed) this.whitelist.allow(owner, namespace, hash);
    else this.whitelist.disallow(owner, namespace, hash);
    return fnOk(undefined);
  }

  /** The owner revokes one of their public tokens (until its exp). */
  revoke(privateToken: string, publicToken: string): FnResult<void> {
    const o = this.owners.authenticate(privateToken);
    return o.ok ? this.revokeAs(o.value, publicToken) : o;
  }

  /** The same for an owner the HTTP layer authenticated. */
  revokeAs(owner: string, publicToken: string): FnResult<void> {
    const c = verifyPublicToken(publicToken, (o) => this.owners.publicKey(o));
    if (!c.ok) return c;
    if (c.value.owner !== owner) return fnFail('FERRY_FN_BAD_TOKEN', 'the token belongs to another owner');
    this.revocations.revoke(tokenId(c.value), c.value.expiresAtS * 1000);
    return fnOk(undefined);
  }

  /** Step: who is calling. Signature (cached), then expiry, then revocation, checked on every call. */
  authenticate(token: string): FnResult<Principal> {
    if (typeof token !== 'string') return fnFail('FERRY_FN_BAD_TOKEN', 'no token');
    if (isPrivateToken(token)) {
      const o = this.owners.authenticate(token);
      return o.ok ? fnOk({ owner: o.value, callerId: o.value }) : o;
    }
    let claims = this.tokenCache.get(token);
    if (claims === undefined) {
      const v = verifyPublicToken(token, (owner) => this.owners.publicKey(owner));
      if (!v.ok) return v;
      claims = v.value;
      if (this.tokenCache.size >= this.tokenCacheSize) this.tokenCache.clear();
      this.tokenCache.set(token, claims);
    }
    if (claims.expiresAtS * 1000 <= this.clock.nowMs())
      return fnFail('FERRY_FN_TOKEN_EXPIRED', `expired at ${new Date(claims.expiresAtS * 1000).toISOString()}`);
    if (this.revocations.isRevoked(tokenId(claims))) return fnFail('FERRY_FN_TOKEN_REVOKED', `token ${claims.jti} is revoked`);
    return fnOk({ owner: claims.owner, callerId: claims.subject, claims });
  }

  /** Steps: authenticate, then the namespace must be one the token lists (the owner has all of theirs). */
  authorize(token: string, namespace: string, asOwner?: string): FnResult<Principal> {
    if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) return fnFail('FERRY_FN_BAD_REQUEST', `namespace must match ${NAMESPACE_PATTERN}`);
    const p = token === '' && asOwner !== undefined ? fnOk<Principal>({ owner: asOwner, callerId: asOwner }) : this.authenticate(token);
    if (!p.ok) return p;
    const c = p.value.claims;
    if (c !== undefined && !c.namespaces.includes(namespace)) return fnFail('FERRY_FN_FORBIDDEN_NAMESPACE', `the token does not allow namespace ${namespace}`);
    return p;
  }

  /** What is wrong with a call request's shape (the token is checked by authenticate), or undefined. */
  checkRequest(req: Pick<CallRequest, 'hash' | 'export' | 'args'>): string | undefined {
    return checkCallRequest(req);
  }

  /** Step: a public token runs only hashes on the namespace's white-list (and in its own list, if any). */
  checkFunction(p: Principal, namespace: string, hash: string): FnResult<void> {
    const c = p.claims;
    if (c === undefined) return fnOk(undefined);
    if (c.functions !== undefined && !c.functions.includes(hash)) return fnFail('FERRY_FN_NOT_WHITELISTED', `the token does not allow ${hash}`);
    if (!this.whitelist.has(p.owner, namespace, hash)) return fnFail('FERRY_FN_NOT_WHITELISTED', `${hash} is not white-listed in ${namespace}`);
    return fnOk(undefined);
  }

  /** The call protocol. Never rejects: every refusal is a typed FnError, a storage failure (e.g. the SQLite state stores) FERRY_FN_UNAVAILABLE. */
  async handleCall(req: CallRequest): Promise<FnResult<RunOutput>> {
    try {
      return await this.#handleCall(req);
    } catch (e) {
      return fnFail('FERRY_FN_UNAVAILABLE', e instanceof Error ? e.message : String(e));
    }
  }

  async #handleCall(req: CallRequest): Promise<FnResult<RunOutput>> {
    const bad = checkCallRequest(req);
    if (bad !== undefined) return fnFail('FERRY_FN_BAD_REQUEST', bad);
    const p = this.authorize(req.token, req.namespace, req.asOwner);
    if (!p.ok) return p;
    const subject = p.value.claims?.subject;
    if (req.boundTo !== undefined && subject !== undefined && subject !== req.boundTo)
      return fnFail('FERRY_FN_BAD_TOKEN', `the token is ${subject}'s; this call comes from ${req.boundTo}`);
    const limited = this.rateLimit(p.value);
    if (!limited.ok) return limited;
    const f = this.checkFunction(p.value, req.namespace, req.hash);
    if (!f.ok) return f;
    return this.execute(p.value, req);
  }

  /** Step: a public token takes one call from its own bucket, the private token from its owner's. */
  private rateLimit(p: Principal): FnResult<void> {
    const c = p.claims;
    // A NUL cannot occur in an owner id, so the owners' bucket ids never meet the tokens' (owner/jti).
    const [id, rate] = c === undefined ? [`\u0000owner:${p.owner}`, this.ownerRate] : [tokenId(c), c.rate];
    if (!this.buckets.take(id, rate.perSecond, rate.burst)) {
      return fnFail(
        'FERRY_FN_RATE_LIMITED',
        `more than ${rate.perSecond} calls/s (burst ${rate.burst}) with ${c === undefined ? `owner ${p.owner}'s private token` : 'this token'}`,
      );
    }
    return fnOk(undefined);
  }

  /**
   * Steps after authorization (also what a schedule runs): module, quota, export, args, run.
   * Does NOT authorize: callers pass a Principal from authorize() and have run checkFunction().
   */
  async execute(p: Principal, req: Omit<CallRequest, 'token'>): Promise<FnResult<RunOutput>> {
    const r = await this.#execute(p, req);
    this.callStats.record(p.owner, req.hash, this.clock.nowMs(), r.ok ? undefined : r.error.code);
    return r;
  }

  async #execute(p: Principal, req: Omit<CallRequest, 'token'>): Promise<FnResult<RunOutput>> {
    const m = this.registry.cached(req.hash) ?? (await this.registry.get(req.hash));
    if (m === undefined) return fnFail('FERRY_FN_MODULE_NEEDED', `upload the module ${req.hash}, then retry`);
    const quota = this.namespaces.quota(p.owner, req.namespace);
    if (m.maxPages > quota.maxPages) return fnFail('FERRY_FN_MEMORY_EXCEEDED', `memory maximum ${m.maxPages} pages > namespace quota ${quota.maxPages}`);
    const ex = m.compiled.info.exports.find((e) => e.name === req.export && e.kind === 'func');
    if (ex?.type === undefined) return fnFail('FERRY_FN_NO_SUCH_EXPORT', `the module exports no function ${req.export}`);
    const resultType = resultTypeOf(ex.type);
    if (resultType === undefined) return fnFail('FERRY_FN_BAD_ARGS', `${req.export} returns ${ex.type.results.join(',')}, which a call cannot carry`);
    const args = convertArgs(ex.type, req.args);
    if (!args.ok) return args;
    const state = this.namespaces.state(p.owner, req.namespace);
    return this.runner.run({
      hash: req.hash,
      bytes: m.bytes,
      owner: p.owner,
      namespace: req.namespace,
      instanceKey: `${p.owner}\u0000${req.namespace}\u0000${req.hash}`,
      compiled: m.compiled,
      maxPages: m.maxPages,
      exportName: req.export,
      args: args.value,
      resultType,
      state,
      maxNewKeys: newKeyRoom(state, quota.maxKeys),
      callerId: p.callerId,
      signSecret: this.signSecretFor?.(p.owner, p.callerId),
    });
  }
}

/** What is wrong with a call request's shape (the token is checked by authenticate), or undefined. */
export function checkCallRequest(req: Pick<CallRequest, 'hash' | 'export' | 'args'>): string | undefined {
  if (typeof req !== 'object' || req === null) return 'the request is not an object';
  if (typeof req.hash !== 'string' || !HASH_PATTERN.test(req.hash)) return 'hash must be 64 lower-case hex digits (SHA-256 of the module)';
  if (typeof req.export !== 'string' || !EXPORT_NAME.test(req.export)) return 'export must be 1..128 printable ASCII characters';
  if (!Array.isArray(req.args) || req.args.length > MAX_ARGS) return `args must be an array of at most ${MAX_ARGS} values`;
  return undefined;
}

/** How many new keys fit; stores that cannot tell leave the quota to their own set(). */
function newKeyRoom(state: KeyValueState, maxKeys: number): number {
  const size = (state as { size?: unknown }).size;
  return typeof size === 'number' ? Math.max(0, maxKeys - size) : Infinity;
}

/**
 * A public token's identity for buckets and revocations: (owner, jti). The jti is chosen by whoever mints the
 * token, so keyed by jti alone one owner could mint a token with another owner's jti and drain or revoke it.
 */
export const tokenId = (c: { readonly owner: string; readonly jti: string }): string => `${c.owner}/${c.jti}`; // owner ids have no '/'
