/**
 * The serial catalog stays in step with the C board (frame.h); docs/serial-protocol.md names only real codes
 * and sends readers to docs/errors.md, whose list packages/base/src/errors-docs.test.ts checks.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERIAL_ERRORS, codeOf } from './errors.ts';
import { KIND } from './frame.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const frameH = readFileSync(join(root, 'firmware/host/src/frame.h'), 'utf8');
const doc = readFileSync(join(root, 'docs/serial-protocol.md'), 'utf8');

describe('serial error catalog', () => {
  it('numbers are unique and in the 6xxx range', () => {
    const nums = Object.values(SERIAL_ERRORS).map((e) => e.num);
    expect(new Set(nums).size).toBe(nums.length);
    for (const n of nums) expect(n >= 6000 && n < 7000).toBe(true);
    expect(codeOf(6105)).toBe('FERRY_SERIAL_UPLOAD_HASH');
  });
  it('every wire code of the C board has the same name and number here', () => {
    const c = [...frameH.matchAll(/SERIAL_([A-Z_]+) = (\d+),/g)].map((m) => [`FERRY_SERIAL_${m[1]}`, Number(m[2])]);
    expect(c.length).toBeGreaterThan(15);
    for (const [name, num] of c) expect(SERIAL_ERRORS[name as keyof typeof SERIAL_ERRORS]?.num).toBe(num);
  });
  it('every frame kind of the C board has the same number here', () => {
    const c = [...frameH.matchAll(/FRAME_([A-Z_]+) = (0x[0-9a-f]+),/g)].map((m) => [m[1]!, Number(m[2])] as const);
    expect(c.length).toBe(Object.keys(KIND).length);
    for (const [name, num] of c) expect(KIND[name as keyof typeof KIND]).toBe(num);
  });
  it('docs/serial-protocol.md names only catalogued codes and links to the list in docs/errors.md', () => {
    expect(doc).toContain('(errors.md#ferry_serial_-6000-6999)');
    const named = [...doc.matchAll(/FERRY_SERIAL_[A-Z_]+/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(0);
    for (const code of named) expect(Object.keys(SERIAL_ERRORS), code).toContain(code);
  });
});
