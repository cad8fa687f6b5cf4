import { describe, expect, it } from 'vitest';
import { probeText } from './probes.ts';

const failing = {
  ready: false,
  checks: [
    { name: 'broker', ok: true },
    { name: 'store', ok: false, detail: 'SQLITE_IOERR' },
    { name: 'component:rule:cloud-1', ok: false, detail: 'FERRY_RULES_JOB_FAILED: stopped' },
  ],
};

describe('probeText', () => {
  it('answers ok or a failed line without ?verbose', () => {
    expect(probeText({ ready: true, checks: [] }, 'readyz', false, false)).toBe('ok\n');
    expect(probeText(failing, 'readyz', false, true)).toBe('readyz check failed\n');
  });

  it('lists every check with its reason for a detailed caller', () => {
    expect(probeText(failing, 'readyz', true, true)).toBe(
      '[+]broker ok\n[-]store failed: SQLITE_IOERR\n[-]component:rule:cloud-1 failed: FERRY_RULES_JOB_FAILED: stopped\nreadyz check failed\n',
    );
  });

  it('withholds reasons and folds components into one check for anyone else', () => {
    const text = probeText(failing, 'readyz', true, false);
    expect(text).toBe('[+]broker ok\n[-]store failed: reason withheld\n[-]components failed: reason withheld\nreadyz check failed\n');
    expect(text).not.toContain('rule');
  });
});
