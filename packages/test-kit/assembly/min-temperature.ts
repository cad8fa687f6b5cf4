// @ts-nocheck -- AssemblyScript, not TypeScript: built by asc (src/function-fixtures.ts), excluded from tsc.
// The thermostat's decision as a cloud function (docs/functions.md, after the FaaS paper's thermostat). The code
// is the board's own (firmware/assembly/lib/min-temperature.ts); this entry exports exactly what the
// board's entry firmware/assembly/fn/min-temperature.ts exports, so asc builds the same bytes here as
// `npm run build:firmware` does there: the hash the board calls the cloud by (e2e/board-remote.test.ts).
export { NONE, abi_version, min_temperature } from "../../../firmware/assembly/lib/min-temperature";
