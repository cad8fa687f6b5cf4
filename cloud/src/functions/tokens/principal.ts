/** @module Who is calling a function: the owner (private token) or a holder of one of the owner's public tokens. */
import type { PublicClaims } from './public-token.ts';

export interface Principal {
  readonly owner: string;
  /** dev.id inside the function: the owner, or the public token's subject. */
  readonly callerId: string;
  /** The public token's claims; absent for the owner. */
  readonly claims?: PublicClaims;
}
