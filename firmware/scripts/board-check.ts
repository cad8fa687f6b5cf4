/**
 * @module What makes a module fit for a board, beyond the ABI check: only the wasm features every WAMR
 * build runs (MVP + mutable-globals + sign-extension; bulk-memory, non-trapping float-to-int, SIMD,
 * reference types and multi-value are optional in WAMR (WAMR_BUILD_BULK_MEMORY, _SIMD, _REF_TYPES ...)
 * and off in small ESP-IDF configurations), validated by wabt with exactly those enabled; no
 * floating-point instructions (ESP32-C3 and other RISC-V parts have no FPU); a size budget.
 */
import wabtInit from 'wabt';
import { checkModule } from '@ferry/wasm-host';

export const SIZE_BUDGET = 16 * 1024;
export const BOARD_FEATURES = {
  mutable_globals: true,
  sign_extension: true,
  sat_float_to_int: false,
  bulk_memory: false,
  simd: false,
  threads: false,
  exceptions: false,
  multi_value: false,
  tail_call: false,
  reference_types: false,
  annotations: false,
  gc: false,
  memory64: false,
  extended_const: false,
  relaxed_simd: false,
  function_references: false,
  multi_memory: false,
};

const wabt = await wabtInit();

export interface BoardCheck {
  readonly problems: string[];
  readonly floatInstructions: number;
}

/** `requiredExports`: default the firmware's (abi_version, boot, tick); a function module needs only abi_version. */
export function checkBoardModule(bytes: Uint8Array, sizeBudget = SIZE_BUDGET, requiredExports?: readonly string[]): BoardCheck {
  const problems: string[] = [];
  const checked = checkModule(bytes, requiredExports === undefined ? {} : { requiredExports });
  if (!checked.ok) problems.push(...checked.errors.map((e) => e.message));
  let text = '';
  try {
    // A copy: wabt reads the view's whole underlying buffer, and readFileSync returns small files (< 4 KiB)
    // as views into Node's shared Buffer pool.
    const mod = wabt.readWasm(new Uint8Array(bytes), { readDebugNames: false, ...BOARD_FEATURES });
    try {
      mod.validate();
      text = mod.toText({});
    } finally {
      mod.destroy();
    }
  } catch (e) {
    problems.push(`not valid with MVP + mutable-globals + sign-extension only: ${(e as Error).message.split('\n')[0]}`);
  }
  const floats = text.match(/\b(f32|f64)\.[a-z_0-9]+/g) ?? [];
  if (floats.length > 0) problems.push(`${floats.length} floating-point instructions (first: ${floats[0]}); the firmware is integer-only`);
  if (bytes.length > sizeBudget) problems.push(`module is ${bytes.length} bytes > budget ${sizeBudget}`);
  return { problems, floatInstructions: floats.length };
}
