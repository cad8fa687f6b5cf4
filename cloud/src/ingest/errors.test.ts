import { readFileSync } from 'node:fs';
import { MessageError } from '@ferry/message';
import { describe, expect, it } from 'vitest';
import { INGEST_ERRORS, IngestError, isIngestError } from './errors.ts';

describe('ingest error catalog', () => {
  const entries = Object.entries(INGEST_ERRORS);
  it('numbers are unique and in the 4500-4599 range', () => {
    const nums = entries.map(([, e]) => e.num);
    expect(new Set(nums).size).toBe(nums.length);
    for (const n of nums) expect(n >= 4500 && n <= 4599).toBe(true);
  });
  it('docs/ingest.md links to docs/errors.md for the catalog (no table of its own) and names only codes that exist', () => {
    const doc = readFileSync(new URL('../../../docs/ingest.md', import.meta.url), 'utf8');
    expect(doc).toContain('](errors.md)');
    expect(doc).not.toMatch(/\|\s*`FERRY_INGEST_[A-Z_]+`\s*\|\s*\d+/);
    const named = new Set([...doc.matchAll(/\bFERRY_INGEST_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]));
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((c) => !Object.hasOwn(INGEST_ERRORS, c))).toEqual([]);
  });
  it('errors carry code, number and the message code of their cause', () => {
    const e = new IngestError('FERRY_INGEST_REJECTED', 'x', new MessageError('FERRY_MSG_BAD_SIGNATURE', 'y'));
    expect(e).toBeInstanceOf(Error);
    expect(isIngestError(e)).toBe(true);
    expect(e.toJSON()).toEqual({ code: 'FERRY_INGEST_REJECTED', num: 4502, message: 'FERRY_INGEST_REJECTED: x', messageCode: 'FERRY_MSG_BAD_SIGNATURE' });
    expect(new IngestError('FERRY_INGEST_LATE', 'z').toJSON()).not.toHaveProperty('messageCode');
  });
});
