/** The function stores conformance suite (stores.case.ts) over Memory and SQLite (a file), and what only SQLite does. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MemoryNamespaceStore, MemoryWhitelist } from '../../functions/namespaces/namespace-store.ts';
import { OverlayState } from '../../functions/namespaces/overlay.ts';
import { generatePrivateToken } from '../../functions/tokens/private-token.ts';
import { MemoryOwnerStore, Owners } from '../../functions/tokens/owners.ts';
import { MemoryRevocationList } from '../../functions/tokens/revocation.ts';
import { MemoryModuleStore, sha256Hex } from '../../functions/registry.ts';
import { FunctionService } from '../../functions/service.ts';
import { SqliteModuleStore, SqliteNamespaceStore, SqliteOwnerStore, SqliteRevocationList, SqliteWhitelist, sqliteFunctionStores } from './function-stores.ts';
import { functionStoreCases, type FunctionStores } from '../../functions/stores.case.ts';
import { wat } from '@ferry/test-kit/wat';
import { codeOf, KV_WAT, ManualClock, owner, unwrap } from '@ferry/test-kit/functions';

const MASTER = new Uint8Array(32).fill(7);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

functionStoreCases('memory', async () => {
  let stores: FunctionStores | undefined;
  return {
    persistent: false,
    open: (nowMs) =>
      (stores ??= {
        owners: new MemoryOwnerStore(),
        modules: new MemoryModuleStore(),
        whitelist: new MemoryWhitelist(),
        namespaces: new MemoryNamespaceStore(),
        revocations: new MemoryRevocationList(nowMs),
      }),
    close: async () => {},
  };
});

functionStoreCases('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-fn-stores-'));
  const dbs: Database.Database[] = [];
  return {
    persistent: true,
    open: (nowMs) => {
      // A reopen is a restart: the earlier connections are closed, as a stopped process's would be.
      for (const db of dbs) db.close();
      const db = new Database(join(dir, 'cloud.db'));
      db.pragma('journal_mode = WAL');
      dbs.splice(0, dbs.length, db);
      return {
        owners: new SqliteOwnerStore(db, { masterKey: MASTER }),
        modules: new SqliteModuleStore(db, { nowMs }),
        whitelist: new SqliteWhitelist(db),
        namespaces: new SqliteNamespaceStore(db),
        revocations: new SqliteRevocationList(db, nowMs),
      };
    },
    close: async () => {
      for (const db of dbs) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteNamespaceStore', () => {
  it("a call's commit is one transaction: a write failing half-way leaves neither the table nor the read copy changed", async () => {
    const db = new Database(':memory:');
    const ns = new SqliteNamespaceStore(db);
    const base = ns.state('alice', 'home');
    base.set('a', enc('0'));
    // Storage failing on the third write of the commit (as a full disk would).
    db.exec("CREATE TRIGGER boom BEFORE INSERT ON fn_ns_state WHEN NEW.key = 'c' BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    const call = new OverlayState(base);
    for (const k of ['a', 'b', 'c']) call.set(k, enc('1'));
    expect(() => call.commit()).toThrow(/disk full/);
    expect([base.get('a'), base.get('b'), base.keyAt('', 1)]).toEqual([enc('0'), undefined, undefined]);
    expect(db.prepare('SELECT key, value FROM fn_ns_state').all()).toEqual([{ key: 'a', value: Buffer.from('0') }]);
    expect(db.inTransaction).toBe(false);
    // A single failing set changes nothing either, and the state keeps working.
    expect(() => base.set('c', enc('x'))).toThrow(/disk full/);
    expect(base.get('c')).toBeUndefined();
    db.exec('DROP TRIGGER boom');
    const retry = new OverlayState(base);
    for (const k of ['a', 'b', 'c']) retry.set(k, enc('1'));
    expect(retry.commit()).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM fn_ns_state').pluck().get()).toBe(3);
    db.close();
  });

  it('a commit with nothing to write opens no transaction; one inside an outer transaction joins it', () => {
    const db = new Database(':memory:');
    const base = new SqliteNamespaceStore(db).state('alice', 'home');
    expect(new OverlayState(base).commit()).toEqual([]);
    const call = new OverlayState(base);
    call.set('k', enc('v'));
    db.transaction(() => {
      call.commit();
    })();
    expect(new SqliteNamespaceStore(db).state('alice', 'home').get('k')).toEqual(enc('v'));
    db.close();
  });
});

describe('SqliteOwnerStore', () => {
  it('seals the signing secret under the master key: not in the file, unreadable with another key', () => {
    const db = new Database(':memory:');
    const rec = { owner: 'alice', verifier: new Uint8Array(32).fill(1), signingSecret: new Uint8Array(32).fill(0xab), registeredAtMs: 1 };
    expect(new SqliteOwnerStore(db, { masterKey: MASTER }).insert(rec)).toBe(true);
    const row = db.prepare('SELECT sealed_secret FROM fn_owner').pluck().get() as Buffer;
    expect(row.includes(Buffer.from(rec.signingSecret))).toBe(false);
    const other = new SqliteOwnerStore(db, { masterKey: new Uint8Array(32).fill(8) });
    expect(other.get('alice')).toBeUndefined();
    expect(other.insert(rec)).toBe(false); // the id stays taken
    // Rows cannot be swapped between owners: the owner id is the associated data.
    db.prepare("INSERT INTO fn_owner SELECT 'mallory', verifier, sealed_secret, registered_at_ms FROM fn_owner WHERE owner = 'alice'").run();
    expect(new SqliteOwnerStore(db, { masterKey: MASTER }).get('mallory')).toBeUndefined();
    expect(() => new SqliteOwnerStore(db, { masterKey: new Uint8Array(16) })).toThrow(/FERRY_STORE_CONFIG/);
    db.close();
  });
});

describe('SqliteModuleStore', () => {
  it('a row whose bytes no longer match their hash reads as absent and is dropped, so a re-upload stores it again', async () => {
    const db = new Database(':memory:');
    const store = new SqliteModuleStore(db, { nowMs: () => 42 });
    const bytes = wat(KV_WAT);
    const hash = sha256Hex(bytes);
    await store.put(hash, bytes);
    expect(db.prepare('SELECT size, stored_at_ms AS at FROM fn_module').get()).toEqual({ size: bytes.length, at: 42 });
    db.prepare("UPDATE fn_module SET bytes = x'00'").run();
    expect(await store.get(hash)).toBeUndefined();
    expect(store.size).toBe(0);
    await store.put(hash, bytes);
    expect(await store.get(hash)).toEqual(bytes);
    db.close();
  });
});

describe('FunctionService on sqliteFunctionStores', () => {
  it('after reopening the file: same owner (no re-registration), module (no re-upload), white-list, state and revocations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-fn-stores-'));
    const clock = new ManualClock();
    const alice = owner('alice');
    const pub = alice.mint({ namespaces: ['home'] }, clock.nowMs());
    const revoked = alice.mint({ subject: 'lost-phone' }, clock.nowMs());
    const bytes = wat(KV_WAT);
    const hash = sha256Hex(bytes);
    const call = { hash, export: 'incr', args: [], namespace: 'home', token: pub };
    const service = (db: Database.Database): FunctionService =>
      new FunctionService({ clock, ...sqliteFunctionStores(db, { masterKey: MASTER, nowMs: () => clock.nowMs() }) });

    const db1 = new Database(join(dir, 'cloud.db'));
    const first = service(db1);
    unwrap(first.register(alice.token));
    unwrap(await first.upload({ bytes, token: alice.token, namespace: 'home' }));
    unwrap(first.setWhitelisted(alice.token, 'home', hash, true));
    unwrap(first.revoke(alice.token, revoked));
    expect(unwrap(await first.handleCall(call)).value).toBe(1);
    db1.close();

    const db2 = new Database(join(dir, 'cloud.db'));
    const second = service(db2);
    expect(codeOf(second.register(alice.token))).toBe('FERRY_FN_OWNER_EXISTS');
    expect(second.registry.cached(hash)).toBeUndefined(); // compiled again from the stored bytes, not uploaded again
    expect(unwrap(await second.handleCall(call)).value).toBe(2); // public token verified, white-listed, counter kept
    expect(codeOf(await second.handleCall({ ...call, token: revoked }))).toBe('FERRY_FN_TOKEN_REVOKED');
    expect(codeOf(second.register(generatePrivateToken('bob')))).toBe('ok');
    expect(new Owners({ store: new SqliteOwnerStore(db2, { masterKey: MASTER }) }).authenticate(alice.token)).toEqual({ ok: true, value: 'alice' });
    db2.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
