/**
 * @module Caps on what a module may ask of its host beyond its size. A module's bytes are bounded, but a few
 * of them can declare a table of ten million entries (instantiation then allocates it outside the JS heap),
 * four billion locals, or thousands of segments. Each cap is checked on the shape `inspect` reads, before the
 * module is compiled, so an upload that would exhaust a runner is refused with FERRY_ABI_LIMIT naming the
 * section. The defaults fit every module the firmware build makes with a wide margin; docs/limits.md lists them.
 */
import type { ModuleShape } from './inspect.ts';

export interface ModuleLimits {
  /** Tables, defined or imported (the reference-types proposal allows several). */
  readonly maxTables: number;
  /** Entries per table, initial and maximum alike; a table must declare a maximum, as memory must. */
  readonly maxTableEntries: number;
  readonly maxGlobals: number;
  /** Functions with a body. */
  readonly maxFunctions: number;
  /** Locals declared by one function (parameters not counted). */
  readonly maxLocals: number;
  /** Locals declared by all functions together. */
  readonly maxTotalLocals: number;
  readonly maxElementSegments: number;
  readonly maxDataSegments: number;
}

export const MODULE_LIMITS: ModuleLimits = {
  maxTables: 4,
  maxTableEntries: 10_000,
  maxGlobals: 1_000,
  maxFunctions: 10_000,
  maxLocals: 1_000,
  maxTotalLocals: 200_000,
  maxElementSegments: 1_000,
  maxDataSegments: 1_000,
};

/** Every cap the shape exceeds, one line each (empty when it fits). */
export function exceededLimits(shape: ModuleShape, limits: Partial<ModuleLimits> = {}): string[] {
  const l = { ...MODULE_LIMITS, ...limits };
  const out: string[] = [];
  if (shape.tables.length > l.maxTables) out.push(`table section: ${shape.tables.length} tables > ${l.maxTables}`);
  for (const [i, t] of shape.tables.entries()) {
    if (t.maximum === undefined) out.push(`table section: table ${i} declares no maximum`);
    const largest = Math.max(t.initial, t.maximum ?? 0);
    if (largest > l.maxTableEntries) out.push(`table section: table ${i} has ${largest} entries > ${l.maxTableEntries}`);
  }
  if (shape.globals > l.maxGlobals) out.push(`global section: ${shape.globals} globals > ${l.maxGlobals}`);
  if (shape.functions > l.maxFunctions) out.push(`code section: ${shape.functions} functions > ${l.maxFunctions}`);
  if (shape.maxLocals > l.maxLocals) out.push(`code section: a function declares ${shape.maxLocals} locals > ${l.maxLocals}`);
  if (shape.totalLocals > l.maxTotalLocals) out.push(`code section: ${shape.totalLocals} locals in all > ${l.maxTotalLocals}`);
  if (shape.elementSegments > l.maxElementSegments) out.push(`element section: ${shape.elementSegments} segments > ${l.maxElementSegments}`);
  if (shape.dataSegments > l.maxDataSegments) out.push(`data section: ${shape.dataSegments} segments > ${l.maxDataSegments}`);
  return out;
}
