/**
 * @module Builds the firmware with asc (asconfig.json: release, debug, and the fixture harness) and
 * checks the release module is fit for a board:
 * - wasm features: only MVP + mutable-globals + sign-extension. Those two are in every WAMR build;
 *   bulk-memory, non-trapping float-to-int, SIMD, reference types and multi-value are optional in WAMR
 *   (WAMR_BUILD_BULK_MEMORY, _SIMD, _REF_TYPES ...) and off in small ESP-IDF configurations, so the
 *   module must not need them. Validated by wabt with exactly those features enabled.
 * - no floating-point instructions (boards without an FPU, e.g. ESP32-C3, would emulate them);
 * - imports only from the ABI table, with the ABI's signatures; exports as the ABI says;
 * - one 64 KiB page of memory that cannot grow; size within the 16 KiB budget.
 * Also builds the function modules under firmware/assembly/fn/ (firmware/build/fn/<name>.wasm): the board
 * runs them locally and names them by SHA-256 when it calls the cloud (firmware/emulator/remote.ts), so
 * they pass the same board check (with `abi_version` as their only required export).
 * Prints size and memory. Run: npm run build:firmware
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { checkModule } from '@ferry/wasm-host';
import { functionReleaseOptions } from '../asc-options.ts';
import { checkBoardModule, SIZE_BUDGET } from './board-check.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const build = join(root, 'firmware/build');

async function compile(args: string[]): Promise<void> {
  const r = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
  if (r.error) throw new Error(`asc ${args.join(' ')} failed: ${r.error.message}`);
}

/** Function modules under firmware/assembly/fn/, each exporting abi_version and its functions. */
const FUNCTION_MODULES = ['min-temperature'] as const;

/**
 * asc arguments for a function module: its files, then the release options it shares with the test kit's
 * fixtures (asc-options.ts).
 * baseDir is the module's folder: at the repository root asc would also link asconfig.json's entries.
 */
function functionArgs(name: string): string[] {
  const dir = join(root, 'firmware/assembly/fn');
  const abort = relative(dir, join(root, 'firmware/assembly/abi/abort')).split('\\').join('/');
  const out = (ext: string): string =>
    relative(dir, join(build, 'fn', `${name}.${ext}`))
      .split('\\')
      .join('/');
  return [`${name}.ts`, '--baseDir', dir, '--outFile', out('wasm'), '--textFile', out('wat'), ...functionReleaseOptions(abort)];
}

mkdirSync(join(build, 'fn'), { recursive: true });
process.chdir(root);
const t0 = performance.now();
await compile(['--config', 'asconfig.json', '--target', 'release']);
await compile(['--config', 'asconfig.json', '--target', 'debug']);
// The harness links the same envelope code with test exports; built with the release options so the
// fixture test exercises the optimised code a board runs.
await compile([
  'firmware/assembly/harness.ts',
  '--config',
  'asconfig.json',
  '--target',
  'release',
  '--outFile',
  'firmware/build/harness.wasm',
  '--textFile',
  'firmware/build/harness.wat',
]);

// Function modules: the firmware's options, but no asconfig.json (its entries would be linked in too).
const fnProblems: string[] = [];
for (const name of FUNCTION_MODULES) {
  const out = join(build, 'fn', `${name}.wasm`);
  await compile(functionArgs(name));
  const fnBytes = readFileSync(out);
  fnProblems.push(...checkBoardModule(fnBytes, SIZE_BUDGET, ['abi_version']).problems.map((p) => `fn/${name}: ${p}`));
  console.log(`firmware: ${relative(root, out)} ${fnBytes.length} bytes`);
}

const release = join(build, 'thermostat.wasm');
const bytes = readFileSync(release);
const checked = checkModule(bytes);
const { problems: thermostatProblems, floatInstructions } = checkBoardModule(bytes);
const problems = [...thermostatProblems, ...fnProblems];
const mem = checked.ok ? checked.value.memories[0] : undefined;
const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
console.log(`firmware: ${relative(root, release)} ${bytes.length} bytes (${kib(bytes.length)}, budget ${kib(SIZE_BUDGET)})`);
console.log(`firmware: memory ${mem?.initial ?? '?'} page(s) initial, ${mem?.maximum ?? '?'} maximum (${kib((mem?.initial ?? 0) * 65536)} linear memory)`);
console.log(`firmware: imports ${checked.ok ? checked.value.imports.map((i) => `${i.module}.${i.name}`).join(' ') : '?'}`);
console.log(`firmware: features MVP + mutable-globals + sign-extension; float instructions: ${floatInstructions}`);
console.log(
  `firmware: debug ${statSync(join(build, 'thermostat.debug.wasm')).size} bytes, harness ${statSync(join(build, 'harness.wasm')).size} bytes; built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
if (problems.length > 0) {
  console.error(`firmware build check FAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
