/** Callback secrets at rest: sealed under the master key, opened to sign, never opened under another key. */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { SqliteSubscriptionStore } from './callback-store.ts';

const sub = {
  id: 'sub-1',
  owner: 'alice',
  so: 'so-1',
  stream: 's',
  url: 'https://example.invalid/hook',
  secret: 'a-callback-secret-of-32-characters',
  createdMs: 1,
};

describe('callback subscriptions at rest', () => {
  it('keep the secret sealed in the database and give it back to the signer', () => {
    const db = new Database(':memory:');
    const key = randomBytes(32);
    const store = new SqliteSubscriptionStore(db, new SecretSealer(key, 'ferry so callback secret'));
    store.add(sub);
    const raw = db.prepare('SELECT secret FROM so_subscriptions').get() as { secret: string };
    expect(raw.secret.startsWith('sealed:')).toBe(true);
    expect(raw.secret).not.toContain(sub.secret);
    expect(store.get('sub-1')).toEqual(sub);
    expect(store.ofStream('so-1', 's')).toEqual([sub]);

    // Another master key (or another purpose) cannot open it: the subscription is left out, never signed wrongly.
    const other = new SqliteSubscriptionStore(db, new SecretSealer(randomBytes(32), 'ferry so callback secret'));
    expect(other.get('sub-1')).toBeUndefined();
    expect(other.ofStream('so-1', 's')).toEqual([]);
    expect(new SqliteSubscriptionStore(db, new SecretSealer(key, 'ferry notify channel secret')).get('sub-1')).toBeUndefined();
  });

  it('read a secret stored before sealing as it was', () => {
    const db = new Database(':memory:');
    new SqliteSubscriptionStore(db).add(sub);
    expect(new SqliteSubscriptionStore(db, new SecretSealer(randomBytes(32))).get('sub-1')).toEqual(sub);
  });
});
