/**
 * @module The secrets the HTTP API accepts besides an owner's private token: the admin credential and API
 * tokens (docs/security.md). An API token is `ferry_at.<id>.<secret>`: the id (12 base64url characters) names
 * the row, so a token is found without scanning and revoked by id; the secret is 32 random bytes of which the
 * cloud keeps only the SHA-256. The admin credential is given (FERRY_ADMIN_TOKEN) or made at first start and
 * kept in `<data>/admin.token`, mode 0600.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthError } from './errors.ts';

export const API_TOKEN_PREFIX = 'ferry_at';
const API_TOKEN = /^ferry_at\.([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})$/;

export const sha256 = (s: string | Uint8Array): Buffer => createHash('sha256').update(s).digest();

export function newApiToken(): { id: string; token: string; verifier: Buffer } {
  const id = randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${API_TOKEN_PREFIX}.${id}.${secret}`, verifier: sha256(secret) };
}

export function parseApiToken(token: string): { id: string; secret: string } | undefined {
  const m = API_TOKEN.exec(token);
  return m === null ? undefined : { id: m[1] as string, secret: m[2] as string };
}

/** A one-time invitation code, `ferry_inv.<secret>`; the cloud keeps its SHA-256. */
export function newInvitation(): { code: string; verifier: Buffer } {
  const code = `ferry_inv.${randomBytes(32).toString('base64url')}`;
  return { code, verifier: sha256(code) };
}

/** Shortest admin credential accepted from the environment: 32 characters leave no room for guessing. */
export const MIN_ADMIN_TOKEN = 32;

/**
 * The admin credential: `given` (CloudOptions.adminToken), else FERRY_ADMIN_TOKEN, else `<dataDir>/admin.token`,
 * else a fresh one written there (0600). `created` is true only in that last case: the caller shows it once.
 */
export function loadAdminToken(
  dataDir: string,
  given: string | undefined,
  env: Record<string, string | undefined> = process.env,
): { token: string; created: boolean; path: string | undefined } {
  const path = join(dataDir, 'admin.token');
  const explicit = given ?? env['FERRY_ADMIN_TOKEN'];
  if (explicit !== undefined) {
    if (explicit.length < MIN_ADMIN_TOKEN) throw new AuthError('FERRY_AUTH_CONFIG', `the admin credential must be at least ${MIN_ADMIN_TOKEN} characters`);
    return { token: explicit, created: false, path: undefined };
  }
  if (existsSync(path)) return { token: readFileSync(path, 'utf8').trim(), created: false, path };
  const token = `ferry_admin.${randomBytes(32).toString('base64url')}`;
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { token, created: true, path };
}
