/**
 * @module The per-owner module quota. The registry stores each module once by hash, whoever uploaded it;
 * the ledger records which owner uploaded which hash and its size, so one owner cannot fill the store (and
 * the registry's memory) with modules: past `maxModules` modules or `maxBytes` in all, an upload of a new
 * hash is refused with FERRY_FN_QUOTA. Re-uploading a hash the owner already has costs nothing; a hash
 * another owner uploaded counts for each owner who uploaded it. `ModuleLedger` is the storage port; the
 * in-memory one is the default.
 */
import { fnFail, fnOk, type FnResult } from '@ferry/wasm-host';

export interface ModuleQuota {
  /** Modules one owner may have uploaded (default 64). */
  readonly maxModules: number;
  /** Their total size in bytes (default 16 MiB). */
  readonly maxBytes: number;
}

export const DEFAULT_MODULE_QUOTA: ModuleQuota = { maxModules: 64, maxBytes: 16 * 1024 * 1024 };

export interface ModuleLedger {
  /** What the owner has uploaded: count and total bytes. */
  usage(owner: string): { readonly modules: number; readonly bytes: number };
  has(owner: string, hash: string): boolean;
  add(owner: string, hash: string, bytes: number): void;
  remove(owner: string, hash: string): void;
}

export class MemoryModuleLedger implements ModuleLedger {
  private readonly owners = new Map<string, Map<string, number>>();

  usage(owner: string): { modules: number; bytes: number } {
    const m = this.owners.get(owner);
    let bytes = 0;
    for (const n of m?.values() ?? []) bytes += n;
    return { modules: m?.size ?? 0, bytes };
  }

  has(owner: string, hash: string): boolean {
    return this.owners.get(owner)?.has(hash) === true;
  }

  add(owner: string, hash: string, bytes: number): void {
    let m = this.owners.get(owner);
    if (m === undefined) {
      m = new Map();
      this.owners.set(owner, m);
    }
    m.set(hash, bytes);
  }

  remove(owner: string, hash: string): void {
    const m = this.owners.get(owner);
    m?.delete(hash);
    if (m?.size === 0) this.owners.delete(owner);
  }
}

/**
 * Charges an upload of `hash` (`size` bytes) to the owner before it is validated and stored, so concurrent
 * uploads cannot all pass the check; `release` undoes it when the upload fails. Nothing to charge when the
 * owner already has the hash.
 */
export function reserveModule(ledger: ModuleLedger, quota: ModuleQuota, owner: string, hash: string, size: number): FnResult<{ release(): void }> {
  if (ledger.has(owner, hash)) return fnOk({ release: () => undefined });
  const u = ledger.usage(owner);
  if (u.modules + 1 > quota.maxModules) return fnFail('FERRY_FN_QUOTA', `owner ${owner} already has ${u.modules} modules (quota ${quota.maxModules})`);
  if (u.bytes + size > quota.maxBytes)
    return fnFail('FERRY_FN_QUOTA', `owner ${owner} has ${u.bytes} bytes of modules; ${size} more would pass the quota of ${quota.maxBytes}`);
  ledger.add(owner, hash, size);
  return fnOk({ release: () => ledger.remove(owner, hash) });
}
