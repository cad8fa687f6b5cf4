/** Service-object records and grants on SQLite: the SoRecordStore contract, and records that survive a reopen. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { soRecordsContract } from '../../compose/records.case.ts';
import { SqliteSoRecords } from './so-records.ts';

soRecordsContract('sqlite', () => new SqliteSoRecords(new Database(':memory:')));

it('keeps records and grants across a reopen of the database', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-so-records-')), 'cloud.db');
  const a = new Database(file);
  const s = new SqliteSoRecords(a);
  s.put({ id: 'x', owner: 'alice', created: 5, rev: 1, document: { streams: {} } });
  s.addGrant('x', { stream: '*', to: { owner: 'bob' } });
  a.close();
  const again = new SqliteSoRecords(new Database(file));
  expect([again.get('x')?.owner, again.grants('x')]).toEqual(['alice', [{ stream: '*', to: { owner: 'bob' } }]]);
});
