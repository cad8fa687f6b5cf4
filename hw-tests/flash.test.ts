/** `ferry flash` / `ferry board upload` (cli/src/flash.ts) against a board on a serial port, in-process. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wat } from '@ferry/test-kit/wat';
import { main } from '../cli/src/main.ts';
import { memoryIo } from '../cli/src/io.ts';
import { THERMOSTAT } from './src/paths.ts';
import { cleanup, closeClients, isHw, openTarget } from './src/target.ts';
import { WAT, withCustomSection } from './src/wasm.ts';

afterEach(cleanup);

const d = isHw ? describe.skip : describe; // flashing a real board in CI is the user's call: run by hand with --port

d('ferry flash', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-flash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('uploads with progress and reports the new module; a second run is a no-op', async () => {
    const { board } = await openTarget();
    await closeClients(); // the CLI opens the port itself
    const mod = withCustomSection(readFileSync(THERMOSTAT), 'ferry.cli', new TextEncoder().encode('v2'));
    const path = join(dir, 'v2.wasm');
    writeFileSync(path, mod);
    const io = memoryIo();
    expect(await main(['node', 'ferry', 'flash', path, '--port', board!.pty, '--chunk', '512'], io)).toBe(0);
    const sha = createHash('sha256').update(mod).digest('hex');
    expect(io.stdout.join('')).toContain(`runs ${sha}`);
    expect(io.stderr.join('')).toContain(`upload: ${mod.length}/${mod.length} bytes`);
    const again = memoryIo();
    expect(await main(['node', 'ferry', 'board', 'upload', path, '--port', board!.pty], again)).toBe(0);
    expect(again.stdout.join('')).toContain('nothing to do');
  });

  it('refuses a module that does not conform, before touching the board, and reports a board refusal with --no-check', async () => {
    const { board } = await openTarget();
    await closeClients();
    const path = join(dir, 'bad.wasm');
    writeFileSync(path, wat(WAT.unknownImport));
    const io = memoryIo();
    expect(await main(['node', 'ferry', 'flash', path, '--port', board!.pty], io)).toBe(1);
    expect(io.stderr.join('')).toContain('does not conform');
    const io2 = memoryIo();
    expect(await main(['node', 'ferry', 'flash', path, '--port', board!.pty, '--no-check'], io2)).toBe(1);
    expect(io2.stderr.join('')).toContain('FERRY_SERIAL_UPLOAD_REJECTED');
  });

  it('a missing port is a usage error', async () => {
    expect(await main(['node', 'ferry', 'flash', THERMOSTAT], memoryIo())).toBe(2);
  });
});
