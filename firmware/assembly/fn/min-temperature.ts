// Function module (built into firmware/build/fn/min-temperature.wasm by firmware/scripts/build.ts): the
// board runs it locally over its own state, and calls the cloud by its SHA-256 to run it over the
// namespace (firmware/emulator/remote.ts). The code is in ../lib/min-temperature.ts.
export { NONE, abi_version, min_temperature } from "../lib/min-temperature";
