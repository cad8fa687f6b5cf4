/**
 * @module Drives the AssemblyScript envelope builder (firmware/build/harness.wasm) from a claims object,
 * so tests compare its bytes with the TypeScript encoder's.
 */
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { HARNESS_WASM } from '@ferry/firmware/paths';
import type { Claims, FerryHeader, Json } from '@ferry/message';
import { compile, MemoryState, ModuleInstance, type BoardPorts } from '@ferry/wasm-host';

export async function harness(key: Uint8Array): Promise<(header: FerryHeader, claims: Claims) => string> {
  const c = await compile(readFileSync(HARNESS_WASM), { requiredExports: ['abi_version'] });
  if (!c.ok) throw new Error(c.errors.map((e) => e.message).join('; '));
  const ports: BoardPorts = {
    deviceId: 'harness',
    nowMs: () => 0,
    uptimeMs: () => 0,
    sensorRead: () => ({ ok: false, status: -5 }),
    actuatorSet: () => -5,
    state: new MemoryState(),
    emit: () => 0,
    log: () => undefined,
    sign: (d) => createHmac('sha256', key).update(d).digest(),
  };
  const r = await ModuleInstance.create(c.value, ports);
  if (!r.ok) throw r.error;
  const inst = r.value;
  const call = (name: string, ...args: (number | bigint)[]): number => {
    const x = inst.call(name, ...args);
    if (!x.ok) throw x.error;
    return x.value;
  };
  const IN = call('in_ptr');
  const put = (s: string, at = 0): number => {
    const b = new TextEncoder().encode(s);
    inst.bytes().set(b, IN + at);
    return b.length;
  };
  const value = (k: string | null, v: Json): void => {
    const klen = k === null ? -1 : put(k);
    if (v === null) call('h_null', klen);
    else if (typeof v === 'boolean') call('h_bool', klen, v ? 1 : 0);
    else if (typeof v === 'string') call('h_str', klen, put(v, Math.max(klen, 0)));
    else if (typeof v === 'number') {
      if (Number.isInteger(v)) call('h_int', klen, BigInt(v));
      else {
        const scale = [1, 2, 3, 4, 5, 6].find((s) => Math.round(v * 10 ** s) / 10 ** s === v);
        if (scale === undefined) throw new RangeError(`${v} needs more than 6 decimals`);
        call('h_fixed', klen, BigInt(Math.round(v * 10 ** scale)), scale);
      }
    } else if (Array.isArray(v)) {
      call('h_open_arr', klen);
      for (const e of v as readonly Json[]) value(null, e);
      call('h_close_arr');
    } else {
      call('h_open_obj', klen);
      for (const [kk, vv] of Object.entries(v)) value(kk, vv);
      call('h_close_obj');
    }
  };
  return (header, claims) => {
    call('h_begin');
    for (const [k, v] of Object.entries(claims)) value(k, v);
    const g = header.group;
    const n = call('h_finish', put(header.kid), header.ep, header.sq, BigInt(g?.id ?? -1), g?.part ?? 0, g?.parts ?? 0);
    if (n < 0) throw new Error(`h_finish returned status ${n}`);
    const out = call('out_ptr');
    return new TextDecoder().decode(inst.bytes().slice(out, out + n));
  };
}
