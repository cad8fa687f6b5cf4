import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeStoreContract } from '@ferry/compose/store-contract';
import { GatewayComposeStore } from './store.ts';

composeStoreContract('gateway sqlite', () => new GatewayComposeStore(':memory:'));

const v = (lastUpdate: number, id = `src:${lastUpdate}`) => ({ channels: { a: lastUpdate }, lastUpdate, id });

describe('GatewayComposeStore', () => {
  it('holds each output once by its id and keeps the newest `cap` per stream', () => {
    const s = new GatewayComposeStore(':memory:', 3);
    for (const t of [1, 2, 2, 3, 4, 5]) s.append('so/A', v(t));
    s.append('so/B', v(9));
    expect(s.range('so/A', 0, 100).map((x) => x.lastUpdate)).toEqual([3, 4, 5]);
    expect(s.range('so/B', 0, 100).map((x) => x.lastUpdate)).toEqual([9]);
  });

  it('a wave that throws leaves nothing behind; one that returns is on disk for the next process', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ferry-gw-compose-')), 'compose.db');
    const s = new GatewayComposeStore(path);
    await expect(
      s.wave(async () => {
        s.setLatest('so/A', v(1));
        s.append('so/A', v(1));
        throw new Error('killed mid-wave');
      }),
    ).rejects.toThrow('killed mid-wave');
    expect([s.latest('so/A'), s.range('so/A', 0, 10)]).toEqual([undefined, []]);
    await s.wave(async () => {
      s.setLatest('so/A', v(2));
      s.putObject('so', 'alice', { streams: {} });
    });
    s.close();
    const again = new GatewayComposeStore(path);
    expect(again.latest('so/A')).toEqual(v(2));
    expect(again.objects()).toEqual([{ id: 'so', owner: 'alice', document: { streams: {} } }]);
    again.close();
  });

  it('remembers what a moved-out object left with, until it is installed again', () => {
    const s = new GatewayComposeStore(':memory:');
    s.putObject('so', 'alice', {});
    s.deleteObject('so', [{ so: 'so' }]);
    expect([s.objects(), s.movedOut('so')]).toEqual([[], [{ so: 'so' }]]);
    s.putObject('so', 'alice', {});
    expect(s.movedOut('so')).toBeUndefined();
  });
});
