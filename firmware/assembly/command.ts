// Signed commands (docs/actions.md "On the board"). The host has verified the token (signature with the
// downlink key, audience, event, expiry, replay window: the key never enters this memory) and calls
// command(verdict); the body `{"id": "...", "cmd": {...}}` is read with cmd.read. Every command whose id
// is valid gets exactly one answer, a signed `cmd.ack` uplink with this device's own sequence:
// `acked` once applied, or `rejected` with a reason (expired | replayed | unknown | invalid | module:<text>).
import {
  cmd_read, LIMIT_COMMAND_MAX, LIMIT_STATE_VALUE_MAX, STATUS_BAD_ARGUMENT, STATUS_OK,
  VERDICT_APPLY, VERDICT_EXPIRED, VERDICT_REPLAYED, COMMAND_ACKED, COMMAND_REBOOT, COMMAND_REJECTED,
} from "./abi/imports";
import * as env from "./envelope";
import * as json from "./lib/json";
import * as state from "./lib/state";
import { parseCenti, parseUint, NAN_CENTI } from "./lib/fixed";
import { isBooted, overrideFurnace, scheduleValid, send, startBody } from "./thermostat";

const ID_MAX: i32 = 64;
const SETPOINT_MIN: i64 = 500; // 5.00 °C: frost protection
const SETPOINT_MAX: i64 = 3500; // 35.00 °C
const FOR_S_MAX: i64 = 3600; // a furnace override lasts at most an hour, then the thermostat decides again

const bodyMem = memory.data(LIMIT_COMMAND_MAX);
const idMem = memory.data(ID_MAX);
let idLen: i32 = 0;

function idChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2e || c == 0x5f || c == 0x2d;
}

function answer(status: string, reason: string): i32 {
  startBody("cmd.ack");
  env.key("id");
  env.body.strUtf8(idMem, idLen);
  env.fieldStr("status", status);
  if (reason.length > 0) env.fieldStr("reason", reason);
  return send();
}

function reject(reason: string): i32 {
  const s = answer("rejected", reason);
  return s < 0 ? s : COMMAND_REJECTED;
}

function acked(result: i32): i32 {
  const s = answer("acked", "");
  return s < 0 ? s : result;
}

/** Writes valW (already filled) under `k`; false when the state refused it (quota). */
function put(k: string): bool {
  state.keyW.reset();
  state.keyW.ascii(k);
  return state.setCurrent() == STATUS_OK;
}

// Members of the `cmd` object, as value ranges in the scanner's current range (-1: absent).
let spS: i32 = -1, spE: i32 = 0, schS: i32 = -1, schE: i32 = 0, fuS: i32 = -1, fuE: i32 = 0, forS: i32 = -1, forE: i32 = 0, rbS: i32 = -1, rbE: i32 = 0;

/** Reads the members of the cmd object; 0, or the reason to reject ("unknown" key, "invalid" shape). */
function readMembers(): string {
  spS = schS = fuS = forS = rbS = -1;
  let i = json.first(0);
  if (i < 0) return "invalid";
  while (true) {
    const r = json.member(i);
    if (r == json.END) break;
    if (r == -1) return "invalid";
    const s = json.valStart, e = json.valEnd;
    if (json.keyIs("setpoint")) { spS = s; spE = e; }
    else if (json.keyIs("schedule")) { schS = s; schE = e; }
    else if (json.keyIs("furnace")) { fuS = s; fuE = e; }
    else if (json.keyIs("for_s")) { forS = s; forE = e; }
    else if (json.keyIs("reboot")) { rbS = s; rbE = e; }
    else return "unknown";
    if (r == json.LAST) break;
    i = r;
  }
  return "";
}

function apply(): i32 {
  const why = readMembers();
  if (why.length > 0) return reject(why);
  const n = (spS >= 0 ? 1 : 0) + (schS >= 0 ? 1 : 0) + (fuS >= 0 || forS >= 0 ? 1 : 0) + (rbS >= 0 ? 1 : 0);
  if (n != 1) return reject("invalid");
  if (spS >= 0) {
    const v = parseCenti(json.ptr(spS), spE - spS);
    if (v == NAN_CENTI || v < SETPOINT_MIN || v > SETPOINT_MAX) return reject("invalid");
    state.valW.reset();
    state.valW.fixed(v, 2);
    if (!put("cfg.sp")) return reject("module:state");
    // A schedule would override the new setpoint at its next entry: the command replaces it.
    if (state.get("cfg.sched") > 0) {
      state.valW.reset();
      if (!put("cfg.sched")) return reject("module:state");
    }
    return acked(COMMAND_ACKED);
  }
  if (schS >= 0) {
    const len = schE - schS - 2;
    if (json.at(schS) != 0x22 || len > LIMIT_STATE_VALUE_MAX || !scheduleValid(json.ptr(schS + 1), len)) return reject("invalid");
    state.valW.reset();
    state.valW.bytes(json.ptr(schS + 1), len);
    return put("cfg.sched") ? acked(COMMAND_ACKED) : reject("module:state");
  }
  if (fuS >= 0) {
    const secs = forS >= 0 ? parseUint(json.ptr(forS), forE - forS) : -1;
    const isOn = json.textIs(fuS, fuE, "\"on\"");
    if ((!isOn && !json.textIs(fuS, fuE, "\"off\"")) || secs < 1 || secs > FOR_S_MAX) return reject("invalid");
    overrideFurnace(isOn, secs * 1000);
    return acked(COMMAND_ACKED);
  }
  if (!json.textIs(rbS, rbE, "true")) return reject("invalid");
  return acked(COMMAND_REBOOT);
}

export function command(verdict: i32): i32 {
  if (!isBooted()) return STATUS_BAD_ARGUMENT;
  const n = cmd_read(bodyMem, LIMIT_COMMAND_MAX);
  if (n < 0) return n;
  json.init(bodyMem, n);
  // The id first: without a valid one there is nobody to answer.
  let idS = -1, idE = 0, cS = -1, cE = 0;
  let i = json.first(0);
  while (i >= 0) {
    const r = json.member(i);
    if (r < 0 && r != json.LAST) break;
    if (json.keyIs("id")) { idS = json.valStart; idE = json.valEnd; }
    else if (json.keyIs("cmd")) { cS = json.valStart; cE = json.valEnd; }
    if (r == json.LAST) break;
    i = r;
  }
  const len = idE - idS - 2;
  if (idS < 0 || json.at(idS) != 0x22 || len < 1 || len > ID_MAX) return STATUS_BAD_ARGUMENT;
  for (let k = 0; k < len; k++) if (!idChar(json.at(idS + 1 + k))) return STATUS_BAD_ARGUMENT;
  memory.copy(idMem, json.ptr(idS + 1), <usize>len);
  idLen = len;
  if (verdict == VERDICT_EXPIRED) return reject("expired");
  if (verdict == VERDICT_REPLAYED) return reject("replayed");
  if (verdict != VERDICT_APPLY || cS < 0) return reject("invalid");
  json.init(json.ptr(cS), cE - cS); // the scanner now walks the cmd object alone
  return apply();
}
