// The thermostat firmware module: the entry points of the device ABI (docs/abi.md).
import { ABI_VERSION } from "./abi/imports";
import "./abi/abort"; // compiled in so asconfig can route abort() to it
export { boot, tick } from "./thermostat";
export { command } from "./command";

export function abi_version(): i32 {
  return ABI_VERSION;
}
