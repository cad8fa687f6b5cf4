import { describe, expect, it } from 'vitest';
import { MemoryRevocationList } from './revocation.ts';

describe('MemoryRevocationList', () => {
  it('revokes by jti and forgets entries past their expiry', () => {
    let now = 0;
    const r = new MemoryRevocationList(() => now);
    r.revoke('a', 1000);
    expect(r.isRevoked('a')).toBe(true);
    expect(r.isRevoked('b')).toBe(false);
    now = 2000;
    r.revoke('b', 5000);
    expect(r.size).toBe(1);
  });
});
