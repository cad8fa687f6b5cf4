/**
 * @module The identities of the HTTP API (docs/security.md): the cloud's admin, owners (their private token
 * makes them admin of their own tenant), API tokens with a role scoped to one owner (or global, minted by the
 * admin), invitations that let a new owner register themselves, and browser sessions made from any of these.
 * `resolve` turns a presented credential into a Principal; everything else here is the admin side of it.
 */
import { randomBytes } from 'node:crypto';
import { KID_PATTERN } from '@ferry/message';
import { sameBytes } from '../functions/tokens/private-token.ts';
import { newApiToken, newInvitation, parseApiToken, sha256 } from './credentials.ts';
import { AuthError } from './errors.ts';
import { isRole, mayActOn, roleAtLeast, type Principal, type Role } from './principal.ts';

export interface ApiTokenRecord {
  readonly id: string;
  readonly owner: string | undefined;
  readonly role: Role;
  readonly name: string;
  /** SHA-256 of the secret part. */
  readonly verifier: Uint8Array;
  readonly createdMs: number;
  readonly expiresMs: number;
  readonly revokedMs?: number | undefined;
}

export interface InvitationRecord {
  readonly verifier: Uint8Array;
  readonly owner: string;
  readonly expiresMs: number;
}

/** Storage port (storage/sqlite/identity-store.ts). */
export interface IdentityStore {
  putToken(r: ApiTokenRecord): void;
  getToken(id: string): ApiTokenRecord | undefined;
  listTokens(owner: string | undefined): ApiTokenRecord[];
  revokeToken(id: string, nowMs: number): boolean;
  putInvitation(r: InvitationRecord): void;
  /** Marks an unused, unexpired invitation used and returns its owner (atomically), or undefined. */
  useInvitation(verifier: Uint8Array, nowMs: number): string | undefined;
}

/** Limits (docs/limits.md): API token lifetime, invitation lifetime, sessions. */
export const MAX_TOKEN_DAYS = 365;
export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_INVITATION_HOURS = 24 * 14;
export const SESSION_MS = 12 * 3600_000;
export const MAX_SESSIONS = 10_000;
/** How long a resolved API token is trusted before its row is read again (a revocation by another worker). */
const TOKEN_CACHE_MS = 2_000;

export interface IdentityOptions {
  readonly store: IdentityStore;
  readonly adminToken: string;
  /** An owner's private token -> the owner, if registered (functions/tokens/owners.ts). */
  readonly ownerOf: (privateToken: string) => string | undefined;
  readonly nowMs?: () => number;
}

interface Session {
  readonly principal: Principal;
  readonly expiresMs: number;
}

export class Identity {
  readonly #store: IdentityStore;
  readonly #admin: Buffer;
  readonly #ownerOf: (privateToken: string) => string | undefined;
  readonly #now: () => number;
  readonly #sessions = new Map<string, Session>();
  readonly #tokens = new Map<string, { rec: ApiTokenRecord; readAtMs: number }>();

  constructor(o: IdentityOptions) {
    this.#store = o.store;
    this.#admin = sha256(o.adminToken);
    this.#ownerOf = o.ownerOf;
    this.#now = o.nowMs ?? Date.now;
  }

  /** The principal a bearer credential proves, or undefined (unknown, malformed, expired or revoked). */
  resolve(credential: string): Principal | undefined {
    if (credential.startsWith('ferry_sk.')) {
      const owner = this.#ownerOf(credential);
      return owner === undefined ? undefined : { id: `owner:${owner}`, owner, role: 'admin', via: 'private-token' };
    }
    const at = parseApiToken(credential);
    if (at !== undefined) {
      const rec = this.#token(at.id);
      if (rec === undefined || !sameBytes(rec.verifier, sha256(at.secret)) || !this.#live(rec)) return undefined;
      return { id: `token:${rec.id}`, owner: rec.owner, role: rec.role, via: 'api-token', tokenId: rec.id };
    }
    if (sameBytes(sha256(credential), this.#admin)) return { id: 'admin', owner: undefined, role: 'admin', via: 'admin' };
    return undefined;
  }

  /** The principal of a session cookie, if the session is current and what made it still holds. */
  session(id: string): Principal | undefined {
    const s = this.#sessions.get(id);
    if (s === undefined) return undefined;
    const tokenId = s.principal.tokenId;
    const stale = s.expiresMs <= this.#now() || (tokenId !== undefined && !this.#live(this.#token(tokenId)));
    if (stale) {
      this.#sessions.delete(id);
      return undefined;
    }
    return s.principal;
  }

  /** A new session for a principal: an opaque random id (the cookie's value). */
  openSession(p: Principal): { id: string; expiresMs: number } {
    if (this.#sessions.size >= MAX_SESSIONS) {
      // Oldest first (a Map iterates in insertion order): a flood of logins cannot grow memory.
      const oldest = this.#sessions.keys().next();
      if (oldest.done !== true) this.#sessions.delete(oldest.value);
    }
    const id = randomBytes(32).toString('base64url');
    const expiresMs = this.#now() + SESSION_MS;
    this.#sessions.set(id, { principal: p, expiresMs });
    return { id, expiresMs };
  }

  closeSession(id: string): void {
    this.#sessions.delete(id);
  }

  /** Mints an API token. The caller may mint for their own owner up to their own role; the admin for anyone. */
  mint(
    by: Principal,
    spec: { role?: unknown; owner?: unknown; name?: unknown; ttlDays?: unknown },
  ): { id: string; token: string; role: Role; owner?: string; name: string; expiresMs: number } {
    if (!isRole(spec.role)) throw new AuthError('FERRY_AUTH_BAD_REQUEST', 'role must be viewer, operator or admin');
    const owner = this.ownerFor(by, spec.owner);
    if (!mayActOn(by, owner, 'admin') || !roleAtLeast(by.role, spec.role))
      throw new AuthError('FERRY_AUTH_FORBIDDEN', 'minting this token needs the admin role of its owner');
    const ttlDays = spec.ttlDays ?? DEFAULT_TOKEN_DAYS;
    if (typeof ttlDays !== 'number' || !Number.isInteger(ttlDays) || ttlDays < 1 || ttlDays > MAX_TOKEN_DAYS)
      throw new AuthError('FERRY_AUTH_BAD_REQUEST', `ttlDays must be an integer 1..${MAX_TOKEN_DAYS}`);
    const name = spec.name ?? '';
    if (typeof name !== 'string' || name.length > 64) throw new AuthError('FERRY_AUTH_BAD_REQUEST', 'name must be a string of at most 64 characters');
    const { id, token, verifier } = newApiToken();
    const now = this.#now();
    const expiresMs = now + ttlDays * 86_400_000;
    this.#store.putToken({ id, owner, role: spec.role, name, verifier, createdMs: now, expiresMs });
    return { id, token, role: spec.role, ...(owner !== undefined && { owner }), name, expiresMs };
  }

  /** The API tokens `by` may see (never their secrets). */
  tokens(by: Principal): { id: string; owner?: string; role: Role; name: string; createdMs: number; expiresMs: number; revokedMs?: number }[] {
    if (!roleAtLeast(by.role, 'admin')) throw new AuthError('FERRY_AUTH_FORBIDDEN', 'listing tokens needs the admin role');
    return this.#store.listTokens(by.owner).map(({ id, owner, role, name, createdMs, expiresMs, revokedMs }) => ({
      id,
      ...(owner !== undefined && { owner }),
      role,
      name,
      createdMs,
      expiresMs,
      ...(revokedMs !== undefined && { revokedMs }),
    }));
  }

  /** Revokes an API token at once (sessions made with it end too). Another owner's token is "not found". */
  revoke(by: Principal, id: string): void {
    const rec = this.#store.getToken(id);
    if (rec === undefined || !mayActOn(by, rec.owner, 'admin')) throw new AuthError('FERRY_AUTH_NOT_FOUND', `no API token ${id}`);
    this.#store.revokeToken(id, this.#now());
    this.#tokens.delete(id);
  }

  /** An invitation for a new owner id (the admin's): single use, expires. */
  invite(by: Principal, spec: { owner?: unknown; ttlHours?: unknown }): { invitation: string; owner: string; expiresMs: number } {
    if (by.owner !== undefined || by.role !== 'admin') throw new AuthError('FERRY_AUTH_FORBIDDEN', "inviting owners is the cloud admin's");
    if (typeof spec.owner !== 'string' || !KID_PATTERN.test(spec.owner))
      throw new AuthError('FERRY_AUTH_BAD_REQUEST', 'owner must be 1..32 characters of [A-Za-z0-9._-]');
    const hours = spec.ttlHours ?? 72;
    if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < 1 || hours > MAX_INVITATION_HOURS)
      throw new AuthError('FERRY_AUTH_BAD_REQUEST', `ttlHours must be an integer 1..${MAX_INVITATION_HOURS}`);
    const { code, verifier } = newInvitation();
    const expiresMs = this.#now() + hours * 3600_000;
    this.#store.putInvitation({ verifier, owner: spec.owner, expiresMs });
    return { invitation: code, owner: spec.owner, expiresMs };
  }

  /** Uses an invitation up: the owner id it was made for, or undefined (unknown, used or expired). */
  redeem(code: string): string | undefined {
    return this.#store.useInvitation(sha256(code), this.#now());
  }

  /** The owner an object made by `by` belongs to: their own, or for a global principal the one they name. */
  ownerFor(by: Principal, named: unknown): string | undefined {
    if (named === undefined || named === null) return by.owner;
    if (typeof named !== 'string' || !KID_PATTERN.test(named))
      throw new AuthError('FERRY_AUTH_BAD_REQUEST', 'owner must be 1..32 characters of [A-Za-z0-9._-]');
    if (by.owner !== undefined && by.owner !== named) throw new AuthError('FERRY_AUTH_FORBIDDEN', 'a credential of one owner cannot act for another');
    return named;
  }

  #token(id: string): ApiTokenRecord | undefined {
    const hit = this.#tokens.get(id);
    const now = this.#now();
    if (hit !== undefined && now - hit.readAtMs < TOKEN_CACHE_MS) return hit.rec;
    const rec = this.#store.getToken(id);
    if (rec === undefined) {
      this.#tokens.delete(id);
      return undefined;
    }
    if (this.#tokens.size >= 10_000) this.#tokens.clear();
    this.#tokens.set(id, { rec, readAtMs: now });
    return rec;
  }

  #live(rec: ApiTokenRecord | undefined): boolean {
    return rec !== undefined && rec.revokedMs === undefined && rec.expiresMs > this.#now();
  }
}
