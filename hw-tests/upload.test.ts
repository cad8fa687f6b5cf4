/** Module upload by hash: the swap, the refusals (wrong hash, truncated, ABI mismatch), and a power cut mid-upload. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { peek } from '@ferry/message';
import { KIND, uploadBegin, uploadChunk, type BoardClient, type UploadProgress } from '@ferry/serial';
import { wat } from '@ferry/test-kit/wat';
import { THERMOSTAT } from './src/paths.ts';
import { NEEDS_PROCESS, cleanup, closeClients, openTarget, posixOnly } from './src/target.ts';
import { WAT, withCustomSection } from './src/wasm.ts';

afterEach(cleanup);
const itPosix = posixOnly(NEEDS_PROCESS);

const thermostat = readFileSync(THERMOSTAT);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** The same firmware under another hash. */
const variant = (tag: string): Uint8Array => withCustomSection(thermostat, 'ferry.test', new TextEncoder().encode(tag));

/** BEGIN and chunks up to `upto` bytes, no commit: an upload caught in the middle. */
async function partialUpload(client: BoardClient, mod: Uint8Array, upto: number): Promise<void> {
  await client.request(KIND.UPLOAD_BEGIN, uploadBegin(mod.length, createHash('sha256').update(mod).digest()));
  for (let off = 0; off < upto; off += 1024) await client.request(KIND.UPLOAD_CHUNK, uploadChunk(off, mod.subarray(off, Math.min(off + 1024, upto))));
}

async function stillRuns(client: BoardClient, wantSha: string): Promise<void> {
  const info = await client.hello();
  expect(info.moduleSha256).toBe(wantSha);
  expect(info.running).toBe(true);
  if (info.testControl) expect([0, 1]).toContain(await client.testTick(10_000));
}

describe('upload by hash', () => {
  it('a complete upload with the right hash swaps to the new module in a new epoch', async () => {
    const { client, info } = await openTarget();
    const mod = variant(`a-${Date.now()}`);
    const progress: UploadProgress[] = [];
    const epoch = await client.upload(mod, { chunkSize: 700, onProgress: (p) => progress.push(p) });
    expect(epoch).toBeGreaterThan(info.epoch);
    expect(progress.at(-1)).toEqual({ sent: mod.length, total: mod.length });
    expect(progress.length).toBe(Math.ceil(mod.length / 700) + 1);
    const after = await client.hello();
    expect(after.moduleSha256).toBe(sha(mod));
    expect(after.epoch).toBe(epoch);
    // The new instance booted: a boot message with sq 0 in the new epoch.
    await client.waitForMessages(1);
    expect(
      client.messages.map((t) => {
        const p = peek(t);
        return p.ok ? `${p.value.ep}/${p.value.sq}` : '';
      }),
    ).toContain(`${epoch}/0`);
  });

  it('a wrong hash is refused and the old module keeps running', async () => {
    const { client, info } = await openTarget();
    const mod = variant('b');
    await expect(client.upload(mod, { sha256: new Uint8Array(32).fill(1) })).rejects.toMatchObject({ code: 'FERRY_SERIAL_UPLOAD_HASH' });
    await stillRuns(client, info.moduleSha256);
  });

  it('a truncated upload is refused at commit and the old module keeps running', async () => {
    const { client, info } = await openTarget();
    const mod = variant('c');
    await expect(client.upload(mod, { chunkSize: 512, stopAfter: 2048 })).rejects.toMatchObject({ code: 'FERRY_SERIAL_UPLOAD_INCOMPLETE' });
    await stillRuns(client, info.moduleSha256);
  });

  it('out-of-order chunks and chunks past the size are refused', async () => {
    const { client, info } = await openTarget();
    const mod = variant('d');
    await client.request(KIND.UPLOAD_BEGIN, uploadBegin(mod.length, createHash('sha256').update(mod).digest()));
    await expect(client.request(KIND.UPLOAD_CHUNK, uploadChunk(100, mod.subarray(100, 200)))).rejects.toMatchObject({ code: 'FERRY_SERIAL_UPLOAD_OFFSET' });
    await client.request(KIND.UPLOAD_BEGIN, uploadBegin(100, new Uint8Array(32)));
    await expect(client.request(KIND.UPLOAD_CHUNK, uploadChunk(0, new Uint8Array(101)))).rejects.toMatchObject({ code: 'FERRY_SERIAL_UPLOAD_SIZE' });
    await expect(client.request(KIND.UPLOAD_BEGIN, uploadBegin(0, new Uint8Array(32)))).rejects.toMatchObject({ code: 'FERRY_SERIAL_UPLOAD_SIZE' });
    await expect(client.request(KIND.UPLOAD_BEGIN, uploadBegin(64 << 20, new Uint8Array(32)))).rejects.toMatchObject({ code: 'FERRY_SERIAL_UPLOAD_SIZE' });
    await stillRuns(client, info.moduleSha256);
  });

  it.each([
    ['an unknown import', WAT.unknownImport, /env\.nope.*no such host function/],
    ['an import with the wrong signature', WAT.wrongSignature, /sensor\.read.*does not match the host's signature \(i\*~\)i/],
    ['another ABI version', WAT.wrongAbiVersion, /FERRY_ABI_VERSION/],
    ['a boot() that traps', WAT.bootFails, /boot failed: unreachable/],
  ])('a module with %s is refused (typed NACK) and the old module keeps running', async (_, text, why) => {
    const { client, info } = await openTarget();
    const err = await client.upload(wat(text)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'FERRY_SERIAL_UPLOAD_REJECTED' });
    expect((err as Error).message).toMatch(why);
    await stillRuns(client, info.moduleSha256);
  });

  itPosix('after a successful swap the new module also runs after a restart; an A/B upload then writes the other slot', async () => {
    const { client, board } = await openTarget();
    const a = variant('slot-a'),
      b = variant('slot-b');
    await client.upload(a);
    await client.upload(b);
    await closeClients();
    await board!.stop();
    const again = await openTarget({ stateDir: board!.stateDir });
    expect(again.info.moduleSha256).toBe(sha(b));
  });

  itPosix('kill -9 in the middle of an upload, then restart: the old module runs', async () => {
    const first = await openTarget();
    const swapped = variant('before-cut');
    await first.client.upload(swapped); // the board now runs an uploaded module from a slot
    const next = variant(`cut-${'x'.repeat(5000)}`);
    const half = Math.floor(next.length / 2);
    await first.client.upload(next, { chunkSize: 256, stopAfter: half }).catch(() => undefined); // commit is refused: incomplete
    await partialUpload(first.client, next, half);
    await first.board!.powerCut(); // no handler runs: the .part file stays as it was
    await first.client.close();
    const second = await openTarget({ stateDir: first.board!.stateDir });
    expect(second.info.moduleSha256).toBe(sha(swapped));
    expect(second.info.epoch).toBeGreaterThan(first.info.epoch + 1);
    await stillRuns(second.client, sha(swapped));
    // and a later complete upload still works
    expect(await second.client.upload(next)).toBeGreaterThan(second.info.epoch);
    expect((await second.client.hello()).moduleSha256).toBe(sha(next));
  });

  itPosix('kill -9 right after a chunk write, repeatedly, never bricks the board', async () => {
    let t = await openTarget();
    const dir = t.board!.stateDir;
    const mod = variant('repeated-cuts');
    for (let round = 0; round < 3; round++) {
      await partialUpload(t.client, mod, 1000 * (round + 1));
      await t.board!.powerCut();
      await closeClients();
      t = await openTarget({ stateDir: dir });
    }
    await stillRuns(t.client, sha(thermostat));
  });
});
