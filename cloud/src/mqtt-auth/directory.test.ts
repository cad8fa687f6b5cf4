import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { mqttPassword } from '@ferry/message/node';
import { DeviceRegistry } from '../devices/registry.ts';
import { SqliteDeviceStore } from '../storage/sqlite/device-store.ts';
import { MqttDirectory, processWorkerCredential, sameSecret } from './directory.ts';

const setup = () => {
  const reg = new DeviceRegistry(new SqliteDeviceStore(new Database(':memory:')), new Uint8Array(32).fill(3));
  const worker = processWorkerCredential();
  return { reg, worker, dir: new MqttDirectory(reg, [worker]) };
};

describe('MQTT directory', () => {
  it('proves devices by the password derived from their key, with their id as client id', () => {
    const { reg, dir } = setup();
    const key = Buffer.from(reg.add('th-01', 'home').key, 'hex');
    const pw = mqttPassword(key, 'th-01');
    expect(dir.authenticate('th-01', 'th-01', pw)).toEqual({ kind: 'device', id: 'th-01', namespace: 'home' });
    expect(dir.authenticate('th-01', 'th-01', `${pw}x`)).toMatchObject({ returnCode: 4 });
    expect(dir.authenticate('other', 'th-01', pw)).toMatchObject({ returnCode: 2 });
    expect(dir.authenticate('nobody', 'nobody', pw)).toMatchObject({ returnCode: 4 });
    expect(dir.authenticate('th-01', undefined, undefined)).toMatchObject({ returnCode: 5 });
  });
  it('accepts a worker under any client id starting with its user name', () => {
    const { worker, dir } = setup();
    expect(dir.authenticate(`${worker.username}-1`, worker.username, worker.password)).toEqual({ kind: 'worker', id: worker.username });
    expect(dir.authenticate('ferry-x', worker.username, worker.password)).toMatchObject({ returnCode: 2 });
    expect(dir.authenticate(`${worker.username}-1`, worker.username, 'nope')).toMatchObject({ returnCode: 4 });
  });
  it("sees a gateway's boards as the registry has them", () => {
    const { reg, dir } = setup();
    reg.add('gw-1', 'home', 1, 'o', { kind: 'gateway' });
    expect(dir.identityOf('gw-1')).toEqual({ kind: 'gateway', id: 'gw-1', boards: [] });
    reg.add('b-1', 'home', 1, 'o', { gateway: 'gw-1' });
    expect(dir.identityOf('gw-1')).toEqual({ kind: 'gateway', id: 'gw-1', boards: ['b-1'] });
    reg.remove('b-1');
    expect(dir.identityOf('gw-1')).toEqual({ kind: 'gateway', id: 'gw-1', boards: [] });
  });
  it('compares secrets whatever their lengths', () => {
    expect(sameSecret('a', 'a')).toBe(true);
    expect(sameSecret('a', 'ab')).toBe(false);
  });
});
