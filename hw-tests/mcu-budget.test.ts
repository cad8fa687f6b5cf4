/**
 * The rv32 board's RAM budget holds at run time, not only at link time: linear memory comes from a heap
 * that ends where the stack begins (firmware/host/rv32/CMakeLists.txt), so a module asking for more
 * than the board's 400 KiB of SRAM is refused at instantiation and the running module stays. The posix
 * board has no such budget: this file is for the rv32 target only.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { wat } from '@ferry/test-kit/wat';
import { TARGET } from './src/paths.ts';
import { cleanup, isHw, openTarget } from './src/target.ts';

afterEach(cleanup);

const module = (pages: number): Uint8Array =>
  wat(`(module (memory (export "memory") ${pages} ${pages})
    (func (export "abi_version") (result i32) i32.const 1)
    (func (export "boot") (param i32) (result i32) i32.const 0)
    (func (export "tick") (result i32) i32.const 0))`);

const skip = isHw ? 'a real board has its own memory map' : TARGET !== 'rv32' ? 'the posix board has no RAM budget' : undefined;
const d = skip === undefined ? describe : describe.skip;
d(`rv32 board: the RAM budget${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('a module whose linear memory (512 KiB) exceeds the SRAM is refused; the old module keeps running', async () => {
    const { client, info } = await openTarget();
    const err = await client.upload(module(8)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'FERRY_SERIAL_UPLOAD_REJECTED' });
    expect((err as Error).message).toMatch(/instantiate failed/);
    const after = await client.hello();
    expect(after.moduleSha256).toBe(info.moduleSha256);
    expect(after.running).toBe(true);
  });

  it('a module with two pages (128 KiB) fits and runs', async () => {
    const { client } = await openTarget();
    const mod = module(2);
    await client.upload(mod);
    expect((await client.hello()).moduleSha256).toBe(createHash('sha256').update(mod).digest('hex'));
  });
});
