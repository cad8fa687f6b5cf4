import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { encode, verify } from '@ferry/message';
import { hmacKey, mqttPassword } from '@ferry/message/node';
import { SqliteDeviceStore } from '../storage/sqlite/device-store.ts';
import { DeviceRegistry, loadMasterKey } from './registry.ts';

const master = new Uint8Array(32).fill(9);

describe('device registry', () => {
  it('adds a device whose key verifies its messages through the registry lookup', () => {
    const reg = new DeviceRegistry(new SqliteDeviceStore(new Database(':memory:')), master);
    const { key } = reg.add('th-01', 'home');
    const t = encode({ header: { kid: 'th-01', ep: 1, sq: 0 }, claims: { iss: 'th-01', iat: 1 } }, hmacKey(Buffer.from(key, 'hex')));
    if (!t.ok) throw t.error;
    expect(verify(t.value, reg.keys).ok).toBe(true);
    expect(reg.namespaceOf('th-01')).toBe('home');
    expect(() => reg.add('th-01')).toThrow(/FERRY_DEVICE_EXISTS/);
    expect(() => reg.add('bad id')).toThrow(/FERRY_DEVICE_BAD_ID/);
  });
  it('stores no usable key in the database: a dump without the master key cannot sign', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-dev-'));
    const db = new Database(join(dir, 'cloud.db'));
    const reg = new DeviceRegistry(new SqliteDeviceStore(db), master);
    const { key } = reg.add('th-02');
    db.close();
    const dump = readFileSync(join(dir, 'cloud.db'));
    expect(dump.includes(Buffer.from(key, 'hex'))).toBe(false);
    expect(dump.includes(Buffer.from(key))).toBe(false);
    // The same rows under another master key do not unseal.
    const other = new DeviceRegistry(new SqliteDeviceStore(new Database(join(dir, 'cloud.db'))), new Uint8Array(32).fill(1));
    expect(other.keys('th-02')).toBeUndefined();
  });
  it('binds each sealed key to its device id: swapping rows does not work', () => {
    const db = new Database(':memory:');
    const reg = new DeviceRegistry(new SqliteDeviceStore(db), master);
    reg.add('a1');
    reg.add('b1');
    db.prepare("UPDATE devices SET sealed_key = (SELECT sealed_key FROM devices WHERE id = 'a1') WHERE id = 'b1'").run();
    const fresh = new DeviceRegistry(new SqliteDeviceStore(db), master);
    expect(fresh.keys('a1')).toBeDefined();
    expect(fresh.keys('b1')).toBeUndefined();
  });
  it('creates the master key file with mode 0600, and reuses it', () => {
    const p = join(mkdtempSync(join(tmpdir(), 'ferry-mk-')), 'master.key');
    const k1 = loadMasterKey(p, {});
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(Buffer.from(loadMasterKey(p, {})).equals(Buffer.from(k1))).toBe(true);
    expect(() => loadMasterKey(p, { FERRY_MASTER_KEY: 'abc' })).toThrow(/FERRY_DEVICE_MASTER_KEY/);
  });
  // Regression: every message naming an unknown kid cost a store lookup, so a flood of them slowed everyone.
  it('remembers unknown kids for a moment: a flood of them costs one lookup each, and adding the device clears it', () => {
    const reg = new DeviceRegistry(new SqliteDeviceStore(new Database(':memory:')), master);
    for (let i = 0; i < 1000; i++) expect(reg.keys('ghost')).toBeUndefined();
    expect(reg.lookups).toBe(1);
    reg.add('ghost');
    expect(reg.keys('ghost')).toBeDefined();
  });
  it('registers gateways and boards attached to one of the same owner; list() answers kind and gateway', () => {
    const reg = new DeviceRegistry(new SqliteDeviceStore(new Database(':memory:')), master);
    const seen: string[] = [];
    reg.watch({ added: (r) => seen.push(`+${r.id}`), removed: (id) => seen.push(`-${id}`) });
    const gw = reg.add('gw-1', 'home', 1, 'alice', { kind: 'gateway' });
    expect(gw.kind).toBe('gateway');
    expect(reg.add('b-1', 'home', 2, 'alice', { gateway: 'gw-1' }).gateway).toBe('gw-1');
    expect(() => reg.add('b-2', 'home', 3, 'bob', { gateway: 'gw-1' })).toThrow(/FERRY_DEVICE_BAD_GATEWAY/);
    expect(() => reg.add('b-3', 'home', 3, 'alice', { gateway: 'b-1' })).toThrow(/FERRY_DEVICE_BAD_GATEWAY/);
    expect(() => reg.add('b-4', 'home', 3, 'alice', { gateway: 'nope' })).toThrow(/FERRY_DEVICE_BAD_GATEWAY/);
    expect(() => reg.add('g-2', 'home', 3, 'alice', { kind: 'gateway', gateway: 'gw-1' })).toThrow(/FERRY_DEVICE_BAD_GATEWAY/);
    expect(() => reg.add('x', 'home', 3, 'alice', { kind: 'robot' as 'device' })).toThrow(/FERRY_DEVICE_BAD_KIND/);
    reg.add('plain');
    expect(reg.list()).toEqual([
      { id: 'b-1', namespace: 'home', owner: 'alice', kind: 'device', gateway: 'gw-1', createdMs: 2 },
      { id: 'gw-1', namespace: 'home', owner: 'alice', kind: 'gateway', createdMs: 1 },
      expect.objectContaining({ id: 'plain', kind: 'device' }),
    ]);
    expect(reg.mqttPasswordOf('gw-1')).toBe(mqttPassword(Buffer.from(gw.key, 'hex'), 'gw-1'));
    expect(reg.mqttPasswordOf('nope')).toBeUndefined();
    reg.remove('plain');
    expect(seen).toEqual(['+gw-1', '+b-1', '+plain', '-plain']);
  });
  it('migrates an older cloud.db: rows without kind or gateway read as boards on no gateway', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE devices (id TEXT PRIMARY KEY, namespace TEXT NOT NULL, created_ms INTEGER NOT NULL, sealed_key BLOB NOT NULL)');
    db.prepare('INSERT INTO devices VALUES (?, ?, ?, ?)').run('old', 'home', 5, Buffer.alloc(60));
    const reg = new DeviceRegistry(new SqliteDeviceStore(db), master);
    expect(reg.list()).toEqual([{ id: 'old', namespace: 'home', kind: 'device', createdMs: 5 }]);
  });
});
