/**
 * @module Owners' public-token signing secrets at rest (SQLite or Redis): AES-256-GCM under a key derived
 * (HKDF-SHA256) from the cloud's master key, which lives outside the database, with the owner id as
 * associated data so a sealed secret cannot be moved to another owner. A copy of the database alone then
 * cannot mint tokens. Layout: iv (12) | tag (16) | ciphertext.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export class SecretSealer {
  readonly #key: Buffer;

  /** `purpose` separates keys: what is sealed for one purpose cannot be opened as another's. */
  constructor(masterKey: Uint8Array, purpose = 'ferry owner signing secret') {
    this.#key = Buffer.from(hkdfSync('sha256', masterKey, new Uint8Array(0), purpose, 32));
  }

  seal(owner: string, secret: Uint8Array): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    c.setAAD(Buffer.from(owner));
    const ct = Buffer.concat([c.update(secret), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), ct]);
  }

  /** The secret, or undefined when it was sealed under another master key or for another owner, or altered. */
  open(owner: string, sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < 28) return undefined;
    const b = Buffer.from(sealed);
    const d = createDecipheriv('aes-256-gcm', this.#key, b.subarray(0, 12));
    d.setAAD(Buffer.from(owner));
    d.setAuthTag(b.subarray(12, 28));
    try {
      return new Uint8Array(Buffer.concat([d.update(b.subarray(28)), d.final()]));
    } catch {
      return undefined;
    }
  }
}
