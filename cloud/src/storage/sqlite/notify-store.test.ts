/** The notifier's store on SQLite: the NotifyStore contract, and deliveries that survive a reopen. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { notifyStoreContract } from '../../notify/stores.case.ts';
import { SqliteNotifyStore } from './notify-store.ts';

notifyStoreContract('sqlite', () => new SqliteNotifyStore(new Database(':memory:')));

describe('SqliteNotifyStore', () => {
  it('keeps the inbox and deliveries across a reopen of the database', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-notify-')), 'cloud.db');
    const a = new Database(file);
    const s = new SqliteNotifyStore(a);
    const e = { id: 'e1', owner: 'alice', kind: 'k', source: 's', at: 5, data: {} };
    s.accept(e);
    s.accept({ ...e, id: 'e2' });
    s.fanOut('e1', [
      {
        delivery: {
          id: 'd1',
          owner: 'alice',
          channelId: 'c',
          subscriptionId: 's',
          eventId: 'e1',
          priority: 'normal',
          state: 'queued',
          attempts: 0,
          createdAt: 5,
          updatedAt: 5,
          nextAt: 5,
          message: { subject: '', body: 'x', event: e },
        },
      },
    ]);
    a.close();
    const again = new SqliteNotifyStore(new Database(file));
    expect(again.inbox(10).map((x) => x.id)).toEqual(['e2']);
    expect(again.getDelivery('d1')?.state).toBe('queued');
  });
});
