/** The command store on SQLite: the CommandStore contract, and a queue that survives a reopen of the database. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { commandStoreContract } from '../../commands/store.case.ts';
import { enqueue } from '../../commands/model.ts';
import { SqliteCommandStore } from './command-store.ts';

commandStoreContract('sqlite', () => new SqliteCommandStore(new Database(':memory:')));

describe('SqliteCommandStore', () => {
  it('keeps queues across a reopen of the database', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-cmd-')), 'cloud.db');
    const a = new Database(file);
    const policy = { depth: 4, overflow: 'reject-new', visibilityMs: 1000, maxAttempts: 2 } as const;
    await new SqliteCommandStore(a).update('d', (q) =>
      enqueue(q, { id: 'c1', device: 'd', cmd: { reboot: true }, priority: 'high', source: 't', createdAt: 1, expiresAt: 99 }, policy),
    );
    a.close();
    expect((await new SqliteCommandStore(new Database(file)).get('c1'))?.cmd).toEqual({ reboot: true });
  });
});
