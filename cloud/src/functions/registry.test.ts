import { describe, expect, it } from 'vitest';
import { MemoryModuleStore, ModuleRegistry, sha256Hex } from './registry.ts';
import { wat } from '@ferry/test-kit/wat';
import { BAD_MODULES, codeOf, KV_WAT, unwrap } from '@ferry/test-kit/functions';

describe('ModuleRegistry', () => {
  it('stores by SHA-256, once (upload is idempotent)', async () => {
    const store = new MemoryModuleStore();
    const reg = new ModuleRegistry({ store });
    const bytes = wat(KV_WAT);
    const a = unwrap(await reg.upload(bytes, { maxPages: 16 }));
    const b = unwrap(await reg.upload(bytes, { maxPages: 16 }));
    expect(a).toEqual({ hash: sha256Hex(bytes) });
    expect(b).toEqual(a);
    expect(store.size).toBe(1);
    expect((await reg.get(a.hash))?.maxPages).toBe(4);
  });

  it('a module found in the store but not in the cache is compiled on demand (another worker uploaded it)', async () => {
    const store = new MemoryModuleStore();
    const { hash } = unwrap(await new ModuleRegistry({ store }).upload(wat(KV_WAT), { maxPages: 16 }));
    const other = new ModuleRegistry({ store });
    expect(other.cached(hash)).toBeUndefined();
    expect((await other.get(hash))?.hash).toBe(hash);
    expect(await other.get('0'.repeat(64))).toBeUndefined();
  });

  it('refuses, with every problem listed and nothing stored: foreign imports, no abi_version, malformed, too large', async () => {
    const store = new MemoryModuleStore();
    const reg = new ModuleRegistry({ store, maxBytes: 4096 });
    const foreign = await reg.upload(wat(BAD_MODULES.foreignImport), { maxPages: 16 });
    expect(codeOf(foreign)).toBe('FERRY_FN_MODULE_INVALID');
    expect(foreign.ok ? '' : foreign.error.details.join()).toMatch(/env\.exec/);
    expect(codeOf(await reg.upload(wat(BAD_MODULES.noAbiVersion), { maxPages: 16 }))).toBe('FERRY_FN_MODULE_INVALID');
    expect(codeOf(await reg.upload(new Uint8Array([0, 97, 115, 109, 2, 0, 0, 0]), { maxPages: 16 }))).toBe('FERRY_FN_MODULE_INVALID');
    expect(codeOf(await reg.upload(new Uint8Array(5000), { maxPages: 16 }))).toBe('FERRY_FN_MODULE_TOO_LARGE');
    expect(store.size).toBe(0);
  });

  it('refuses a memory without maximum, or one above the namespace quota (memory bombs)', async () => {
    const reg = new ModuleRegistry();
    expect(codeOf(await reg.upload(wat(BAD_MODULES.noMaximum), { maxPages: 16 }))).toBe('FERRY_FN_MEMORY_EXCEEDED');
    expect(codeOf(await reg.upload(wat(BAD_MODULES.hugeMaximum), { maxPages: 16 }))).toBe('FERRY_FN_MEMORY_EXCEEDED');
    expect(codeOf(await reg.upload(wat(KV_WAT), { maxPages: 2 }))).toBe('FERRY_FN_MEMORY_EXCEEDED');
    expect(codeOf(await reg.upload(wat(KV_WAT), { maxPages: 4 }))).toBe('ok');
  });
});
