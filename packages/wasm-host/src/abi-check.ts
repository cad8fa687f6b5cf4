/**
 * @module Checks a module against the ABI table before it is instantiated: every import must be an ABI
 * function with the exact wasm signature, the required exports must exist with their signatures, and
 * memory must be the module's own, bounded, and within quota. The same check guards the emulated board,
 * the firmware build, and (later) the cloud's module registry.
 */
import { AbiError, EXPORTS, HOST_FUNCTIONS, importName, type HostFunction } from '@ferry/abi';
import { inspect, signature, type FuncType, type ModuleInfo } from './inspect.ts';
import { exceededLimits, type ModuleLimits } from './module-limits.ts';

export interface CheckOptions {
  /** Exports that must be present (default: every export in the ABI table, i.e. a firmware module). */
  readonly requiredExports?: readonly string[];
  /** Largest allowed memory maximum in 64 KiB pages (default 1). */
  readonly maxPages?: number;
  /** Largest module in bytes (default 256 KiB). */
  readonly maxBytes?: number;
  /** Caps on tables, globals, functions, locals and segments (defaults: MODULE_LIMITS). */
  readonly limits?: Partial<ModuleLimits>;
}

const tableType = (fn: HostFunction): FuncType => ({
  params: fn.params.map((p) => p.type),
  results: fn.result === 'void' ? [] : [fn.result],
});

const BY_NAME = new Map(HOST_FUNCTIONS.map((f) => [importName(f), f]));

export type CheckResult = { ok: true; value: ModuleInfo } | { ok: false; errors: AbiError[] };

/** Returns every problem found (not just the first), so a build or an upload reports them all at once. */
export function checkModule(bytes: Uint8Array, opts: CheckOptions = {}): CheckResult {
  const maxBytes = opts.maxBytes ?? 256 * 1024;
  if (bytes.length > maxBytes) return { ok: false, errors: [new AbiError('FERRY_ABI_TOO_LARGE', `${bytes.length} bytes > ${maxBytes}`)] };
  const parsed = inspect(bytes);
  if (!parsed.ok) return { ok: false, errors: [new AbiError('FERRY_ABI_MALFORMED', parsed.error.message)] };
  const info = parsed.value;
  const errors: AbiError[] = exceededLimits(info, opts.limits).map((m) => new AbiError('FERRY_ABI_LIMIT', m));
  for (const imp of info.imports) {
    const name = `${imp.module}.${imp.name}`;
    const fn = BY_NAME.get(name);
    if (imp.kind !== 'func' || fn === undefined) {
      errors.push(new AbiError(imp.kind === 'memory' ? 'FERRY_ABI_MEMORY' : 'FERRY_ABI_UNKNOWN_IMPORT', `${imp.kind} import ${name} is not in the ABI table`));
      continue;
    }
    const want = signature(tableType(fn));
    const got = signature(imp.type!);
    if (want !== got) errors.push(new AbiError('FERRY_ABI_IMPORT_SIGNATURE', `${name} is ${got}, the ABI says ${want}`));
  }
  const required = opts.requiredExports ?? EXPORTS.filter((e) => e.optional !== true).map((e) => e.name);
  // An optional export (docs/abi.md) may be absent, but when present it must have the table's signature.
  const present = EXPORTS.filter((e) => e.optional === true && !required.includes(e.name) && info.exports.some((x) => x.name === e.name));
  for (const name of [...required, ...present.map((e) => e.name)]) {
    const spec = EXPORTS.find((e) => e.name === name);
    const ex = info.exports.find((e) => e.name === name);
    if (ex === undefined || ex.kind !== 'func') {
      errors.push(new AbiError('FERRY_ABI_MISSING_EXPORT', `export ${name} is missing`));
      continue;
    }
    if (spec !== undefined) {
      const want = signature({ params: spec.params.map((p) => p.type), results: spec.result === 'void' ? [] : [spec.result] });
      if (signature(ex.type!) !== want) errors.push(new AbiError('FERRY_ABI_EXPORT_SIGNATURE', `${name} is ${signature(ex.type!)}, the ABI says ${want}`));
    }
  }
  const maxPages = opts.maxPages ?? 1;
  const mem = info.memories[0];
  if (mem === undefined || info.memories.length !== 1)
    errors.push(new AbiError('FERRY_ABI_MEMORY', `expected exactly one memory, found ${info.memories.length}`));
  else if (mem.maximum === undefined) errors.push(new AbiError('FERRY_ABI_MEMORY', 'memory declares no maximum'));
  else if (mem.maximum > maxPages) errors.push(new AbiError('FERRY_ABI_MEMORY', `memory maximum ${mem.maximum} pages > quota ${maxPages}`));
  if (!info.exports.some((e) => e.name === 'memory' && e.kind === 'memory'))
    errors.push(new AbiError('FERRY_ABI_MISSING_EXPORT', 'memory is not exported as "memory"'));
  return errors.length === 0 ? { ok: true, value: info } : { ok: false, errors };
}
