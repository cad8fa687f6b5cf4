/** @module Test modules (compiled with the kit's wat()): the thermostat with a custom section (same code, another hash) and modules that break the ABI. */

/** Appends a custom section (id 0; WebAssembly core spec §5.5.3) so the bytes, and the SHA-256, differ. */
export function withCustomSection(wasm: Uint8Array, name: string, data: Uint8Array): Uint8Array {
  const n = new TextEncoder().encode(name);
  const body = Uint8Array.from([...leb(n.length), ...n, ...data]);
  return Uint8Array.from([...wasm, 0, ...leb(body.length), ...body]);
}

function leb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

const EXPORTS = `(memory (export "memory") 1 1)
  (func (export "abi_version") (result i32) i32.const 1)
  (func (export "boot") (param i32) (result i32) i32.const 0)
  (func (export "tick") (result i32) i32.const 0)`;

export const WAT = {
  unknownImport: `(module (import "env" "nope" (func (param i32))) ${EXPORTS})`,
  wrongSignature: `(module (import "sensor" "read" (func (param i32) (result i32))) ${EXPORTS})`,
  wrongAbiVersion: `(module (memory (export "memory") 1 1)
    (func (export "abi_version") (result i32) i32.const 99)
    (func (export "boot") (param i32) (result i32) i32.const 0)
    (func (export "tick") (result i32) i32.const 0))`,
  bootFails: `(module (memory (export "memory") 1 1)
    (func (export "abi_version") (result i32) i32.const 1)
    (func (export "boot") (param i32) (result i32) unreachable)
    (func (export "tick") (result i32) i32.const 0))`,
} as const;
