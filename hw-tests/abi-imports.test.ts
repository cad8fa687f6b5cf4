/**
 * The board's native table (generated include/ferry_abi.h) equals the firmware's import section, checked
 * by WAMR at load: the thermostat loads on the one-shot `ferry-board MODULE EXPORT` runner, and modules
 * whose imports differ are refused before they run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOST_FUNCTIONS, importName } from '@ferry/abi';
import { inspect } from '@ferry/wasm-host';
import { readFileSync } from 'node:fs';
import { wat } from '@ferry/test-kit/wat';
import { BOARD_BIN, THERMOSTAT } from './src/paths.ts';
import { WAT } from './src/wasm.ts';

const dir = mkdtempSync(join(tmpdir(), 'ferry-abi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args: string[]): { status: number | null; out: string; err: string } => {
  const r = spawnSync(BOARD_BIN, args, { encoding: 'utf8', cwd: dir, env: { ...process.env, FERRY_STATE_DIR: dir } });
  return { status: r.status, out: r.stdout, err: r.stderr };
};

describe('import section == native table', () => {
  it('the thermostat imports only functions of the table, and the board links every one of them', () => {
    const info = inspect(readFileSync(THERMOSTAT));
    if (!info.ok) throw info.error;
    const table = new Set(HOST_FUNCTIONS.map(importName));
    for (const i of info.value.imports) expect(table.has(`${i.module}.${i.name}`)).toBe(true);
    const r = run(THERMOSTAT, 'abi_version');
    expect(r.err).not.toMatch(/no such host function|does not match the host/);
    expect([r.status, r.out.trim()]).toEqual([0, '1']);
  });

  it.each([
    ['unknown import', WAT.unknownImport, /import env\.nope \(i32\) -> \(\): no such host function/],
    ['wrong signature', WAT.wrongSignature, /import sensor\.read \(i32\) -> i32: does not match the host's signature \(i\*~\)i/],
  ])('a module with an %s is refused at load', async (name, text, why) => {
    const path = join(dir, `${name.replace(/ /g, '-')}.wasm`);
    writeFileSync(path, wat(text));
    const r = run(path, 'abi_version');
    expect(r.status).toBe(1);
    expect(r.err).toMatch(why);
  });
});
