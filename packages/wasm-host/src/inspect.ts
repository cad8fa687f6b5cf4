/**
 * @module Reads a wasm binary's type, import, function, memory and export sections (WebAssembly core
 * spec §5.5) to check a module against the ABI before it runs: import names AND signatures, memory
 * limits, exports. Hand-written because WebAssembly.Module.imports() gives no signatures and the job is
 * ~150 lines; every malformed input yields a typed error, never an exception.
 */
import { WasmFormatError } from './errors.ts';

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}
export interface ImportEntry {
  readonly module: string;
  readonly name: string;
  readonly kind: 'func' | 'table' | 'memory' | 'global';
  readonly type?: FuncType;
}
export interface ExportEntry {
  readonly name: string;
  readonly kind: 'func' | 'table' | 'memory' | 'global';
  readonly type?: FuncType;
}
export interface MemoryLimits {
  readonly initial: number;
  readonly maximum?: number;
}
/** Table limits are counted in entries (WebAssembly core spec §5.3.6 tabletype). */
export type TableLimits = MemoryLimits;
/**
 * How much a module asks of its host beyond its bytes: what instantiation allocates (tables, globals) and
 * what compilation walks (functions, locals, segments). A few bytes can declare millions of table entries or
 * locals, so these are read and capped before a module is compiled (see module-limits.ts).
 */
export interface ModuleShape {
  /** Defined and imported tables. */
  readonly tables: readonly TableLimits[];
  /** Defined and imported globals. */
  readonly globals: number;
  /** Functions with a body (the code section). */
  readonly functions: number;
  /** The most locals one function declares (parameters not included), and the sum over all functions. */
  readonly maxLocals: number;
  readonly totalLocals: number;
  readonly elementSegments: number;
  readonly dataSegments: number;
}
export interface ModuleInfo extends ModuleShape {
  readonly imports: readonly ImportEntry[];
  readonly exports: readonly ExportEntry[];
  readonly memories: readonly MemoryLimits[];
  readonly size: number;
}

const VAL: Record<number, ValType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KIND = ['func', 'table', 'memory', 'global'] as const;

class Reader {
  pos = 0;
  readonly b: Uint8Array;
  readonly end: number;
  constructor(b: Uint8Array, end = b.length) {
    this.b = b;
    this.end = end;
  }
  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end at byte ${this.pos}`);
    return this.b[this.pos++]!;
  }
  u32(): number {
    let r = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const x = this.byte();
      r += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) {
        if (r > 0xffff_ffff) throw new WasmFormatError('LEB128 value exceeds u32');
        return r;
      }
    }
    throw new WasmFormatError('LEB128 too long');
  }
  name(): string {
    const n = this.u32();
    if (this.pos + n > this.end) throw new WasmFormatError('name runs past its section');
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(s);
    } catch {
      throw new WasmFormatError('name is not UTF-8');
    }
  }
  valType(): ValType {
    const t = VAL[this.byte()];
    if (t === undefined) throw new WasmFormatError(`unknown value type at byte ${this.pos - 1}`);
    return t;
  }
  limits(): MemoryLimits {
    const flag = this.byte();
    if (flag > 1) throw new WasmFormatError(`unsupported limits flag ${flag} (shared or 64-bit memory)`);
    const initial = this.u32();
    return flag === 1 ? { initial, maximum: this.u32() } : { initial };
  }
}

function parse(bytes: Uint8Array): ModuleInfo {
  const r = new Reader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const m of magic) if (r.pos >= bytes.length || r.byte() !== m) throw new WasmFormatError('not a wasm 1.0 binary (bad magic or version)');
  const types: FuncType[] = [];
  const funcTypes: number[] = [];
  const imports: ImportEntry[] = [];
  const rawExports: { name: string; kind: (typeof KIND)[number]; index: number }[] = [];
  const memories: MemoryLimits[] = [];
  const tables: TableLimits[] = [];
  let globals = 0;
  let functions = 0;
  let maxLocals = 0;
  let totalLocals = 0;
  let elementSegments = 0;
  let dataSegments = 0;
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} runs past the end`);
    const s = new Reader(bytes, end);
    s.pos = r.pos;
    if (id === 1) {
      for (let n = s.u32(); n > 0; n--) {
        if (s.byte() !== 0x60) throw new WasmFormatError('type is not a function type');
        const params = Array.from({ length: s.u32() }, () => s.valType());
        const results = Array.from({ length: s.u32() }, () => s.valType());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = s.u32(); n > 0; n--) {
        const module = s.name();
        const name = s.name();
        const kind = KIND[s.byte()];
        if (kind === undefined) throw new WasmFormatError('unknown import kind');
        if (kind === 'func') {
          const t = types[s.u32()];
          if (t === undefined) throw new WasmFormatError(`import ${module}.${name} names a missing type`);
          funcTypes.push(types.indexOf(t));
          imports.push({ module, name, kind, type: t });
        } else {
          if (kind === 'table') {
            s.valType();
            tables.push(s.limits());
          } else if (kind === 'memory') memories.push(s.limits());
          else {
            s.valType();
            s.byte();
            globals++;
          }
          imports.push({ module, name, kind });
        }
      }
    } else if (id === 3) {
      for (let n = s.u32(); n > 0; n--) funcTypes.push(s.u32());
    } else if (id === 4) {
      for (let n = s.u32(); n > 0; n--) {
        s.valType();
        tables.push(s.limits());
      }
    } else if (id === 5) {
      for (let n = s.u32(); n > 0; n--) memories.push(s.limits());
    } else if (id === 6) {
      globals += s.u32(); // each entry is at least 3 bytes, so the section's size already bounds the count read
    } else if (id === 9) {
      elementSegments = s.u32();
    } else if (id === 10) {
      functions = s.u32();
      for (let n = functions; n > 0; n--) {
        const bodySize = s.u32();
        const bodyEnd = s.pos + bodySize;
        if (bodyEnd > end) throw new WasmFormatError('function body runs past the code section');
        let locals = 0;
        // Locals come as (count, type) runs (§5.5.13): five bytes can declare four billion of them.
        for (let runs = s.u32(); runs > 0; runs--) {
          locals += s.u32();
          s.valType();
        }
        maxLocals = Math.max(maxLocals, locals);
        totalLocals += locals;
        s.pos = bodyEnd;
      }
    } else if (id === 11) {
      dataSegments = s.u32();
    } else if (id === 7) {
      for (let n = s.u32(); n > 0; n--) {
        const name = s.name();
        const kind = KIND[s.byte()];
        if (kind === undefined) throw new WasmFormatError('unknown export kind');
        rawExports.push({ name, kind, index: s.u32() });
      }
    }
    r.pos = end;
  }
  const exports = rawExports.map((e): ExportEntry => {
    if (e.kind !== 'func') return { name: e.name, kind: e.kind };
    const t = types[funcTypes[e.index] ?? -1];
    if (t === undefined) throw new WasmFormatError(`export ${e.name} names a missing function`);
    return { name: e.name, kind: e.kind, type: t };
  });
  return { imports, exports, memories, size: bytes.length, tables, globals, functions, maxLocals, totalLocals, elementSegments, dataSegments };
}

export type InspectResult = { ok: true; value: ModuleInfo } | { ok: false; error: WasmFormatError };

/** Parses the sections Ferry checks; never throws. */
export function inspect(bytes: Uint8Array): InspectResult {
  try {
    return { ok: true, value: parse(bytes) };
  } catch (e) {
    return { ok: false, error: e instanceof WasmFormatError ? e : new WasmFormatError(String(e)) };
  }
}

export const signature = (t: FuncType): string => `(${t.params.join(',')})->(${t.results.join(',')})`;
