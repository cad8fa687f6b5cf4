/**
 * @module Who is calling the HTTP API, and what a role may do (docs/security.md, "Identities"). Three roles,
 * each including the one below: `viewer` reads (devices, streams, jobs), `operator` also runs things (calls
 * functions, starts and stops rules, drives a gateway), `admin` also provisions (devices, gateways, tokens). A
 * principal is scoped to one owner (tenant), or to none: the cloud's admin, who may do everything.
 */

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** Stable id of the credential: what rate limits and logs key on (never the secret). */
  readonly id: string;
  /** The owner (tenant) the credential acts for; undefined for the cloud's admin and global API tokens. */
  readonly owner: string | undefined;
  readonly role: Role;
  /** How it was proven: the admin credential, an owner's private token, an API token, or a session. */
  readonly via: 'admin' | 'private-token' | 'api-token';
  /** For an API token: its id (revoking it ends the sessions made with it). */
  readonly tokenId?: string;
}

export const isRole = (r: unknown): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r);

export const roleAtLeast = (have: Role, need: Role): boolean => ROLES.indexOf(have) >= ROLES.indexOf(need);

/** Whether `p` may act on an object of `owner` with role `need`: a global principal on any, others on their own. */
export function mayActOn(p: Principal, owner: string | undefined, need: Role): boolean {
  if (!roleAtLeast(p.role, need)) return false;
  return p.owner === undefined || (owner !== undefined && owner === p.owner);
}
