/**
 * @module The asc options a function module is built with: asconfig.json's release options spelled out (stub
 * runtime, one page that cannot grow, abort routed to sys.abort, only the wasm features every WAMR build has).
 * One list for the firmware build (scripts/build.ts) and the test kit's function fixtures, so a fixture and
 * the module the firmware build makes from the same source are the same bytes.
 */

/** Release options for a function module; `abort` is the path of firmware/assembly/abi/abort from its baseDir. */
export const functionReleaseOptions = (abort: string): string[] => [
  '--runtime',
  'stub',
  '--initialMemory',
  '1',
  '--maximumMemory',
  '1',
  '--disable',
  'bulk-memory,nontrapping-f2i,simd,reference-types,multi-value',
  '--use',
  `abort=${abort}/ferryAbort`,
  '--optimizeLevel',
  '3',
  '--shrinkLevel',
  '2',
  '--noAssert',
];
