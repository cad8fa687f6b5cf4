// The thermostat, after the FaaS paper's prototype (register a device, update a temperature, decide
// furnace on/off), made safe for a real furnace:
// - decides on the MINIMUM of the fresh room temperatures in state (`temp.<id>` = "<celsius> <unix ms>"),
//   so in the cloud every room reader of the namespace counts and offline only this board's sensor does;
// - hysteresis band around the setpoint (on at sp - h, off at sp + h);
// - minimum on and off times against short cycling, measured on the monotonic clock;
// - a safety cut-off (sensor fault, implausible reading, over-temperature) that switches off at once,
//   overriding the minimum on time;
// - setpoint, hysteresis, times and a daily schedule read from state every tick, so the cloud or the
//   gateway can change them;
// - signed commands (command.ts) set the setpoint or the schedule, override the furnace for a bounded
//   time (still under the safety cut-off and the minimum on/off times), or ask for a reboot.
import {
  actuator_set, clock_now_ms, clock_uptime_ms, dev_id, log_write, msg_emit, sensor_read,
  ABI_VERSION, LIMIT_DEVICE_ID_MAX, STATUS_BAD_ARGUMENT, STATUS_OK,
} from "./abi/imports";
import * as env from "./envelope";
import * as state from "./lib/state";
import { parseCenti, parseUint, NAN_CENTI } from "./lib/fixed";

const SENSOR_MIN: i64 = -4000; // -40.00 °C: below any room; a disconnected NTC reads like this
const SENSOR_MAX: i64 = 8500; // 85.00 °C: the upper rating of common digital sensors
const MAX_READERS: i32 = 64; // bound on state keys scanned per tick

const kidMem = memory.data(LIMIT_DEVICE_ID_MAX);
const readMem = memory.data(4);
let kidLen: i32 = 0;
let epoch: u32 = 0;
let seq: u32 = 0;
let booted = false;

let heating = false;
let lastChange: i64 = 0;
let alarm: i32 = 0; // 0 none, 1 sensor fault, 2 over-temperature
let overrideUntil: i64 = 0; // uptime ms until which a furnace override command is in force
let overrideOn = false;

// Results of the last tick, for telemetry.
let lastT: i64 = NAN_CENTI;
let lastMin: i64 = NAN_CENTI;
let lastCount: i32 = 0;

function info(s: string): void {
  state.valW.reset();
  state.valW.ascii(s);
  log_write(1, state.valMem, state.valW.len);
}

export function startBody(ev: string): void {
  env.begin();
  env.key("iss");
  env.body.strUtf8(kidMem, kidLen);
  env.fieldInt("iat", clock_now_ms() / 1000);
  env.fieldStr("ev", ev);
  env.key("d");
  env.open(0x7b);
}

export function send(): i32 {
  env.close(0x7d);
  const n = env.finish(kidMem, kidLen, epoch, seq, -1, 0, 0);
  if (n < 0) return n;
  seq++; // consumed even if delivery fails: a gap is visible to the receiver, a reuse never happens
  return msg_emit(env.outPtr(), n);
}

function fieldCenti(k: string, v: i64): void {
  if (v == NAN_CENTI) { env.key(k); env.body.ascii("null"); } else env.fieldFixed(k, v, 2);
}

export function boot(ep: i32): i32 {
  const n = dev_id(kidMem, LIMIT_DEVICE_ID_MAX);
  if (n <= 0) return n < 0 ? n : STATUS_BAD_ARGUMENT;
  kidLen = n;
  epoch = <u32>ep;
  seq = 0;
  heating = false;
  alarm = 0;
  overrideUntil = 0;
  // Start in the safe state and count boot as a switch-off, so a reboot loop cannot short-cycle.
  actuator_set(0, 0);
  lastChange = clock_uptime_ms();
  booted = true;
  startBody("boot");
  env.fieldInt("abi", ABI_VERSION);
  env.fieldStr("app", "thermostat");
  env.fieldInt("ver", 1);
  return send();
}

export function isBooted(): bool {
  return booted;
}

/** A furnace override command: `on` for `ms` of uptime, then the thermostat decides again. */
export function overrideFurnace(on: bool, ms: i64): void {
  overrideOn = on;
  overrideUntil = clock_uptime_ms() + ms;
}

/**
 * The value of the schedule "HHMM=21.5,2230=17" at `minute` of the local day: the latest entry at or
 * before it, else (before the first entry of the day) yesterday's last entry; `dflt` when malformed.
 */
function scheduleAt(p: usize, n: i32, minute: i32, dflt: i64): i64 {
  let best: i64 = NAN_CENTI, bestAt = -1, last: i64 = NAN_CENTI, lastAt = -1;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j < n && load<u8>(p + <usize>j) != 0x2c) j++;
    // entry [i, j): HHMM=value
    if (j - i < 6 || load<u8>(p + <usize>i + 4) != 0x3d) return dflt;
    const hh = parseCenti(p + <usize>i, 2), mm = parseCenti(p + <usize>i + 2, 2);
    const v = parseCenti(p + <usize>i + 5, j - i - 5);
    if (hh == NAN_CENTI || mm == NAN_CENTI || v == NAN_CENTI || hh > 2300 || mm > 5900) return dflt;
    const at = <i32>(hh / 100) * 60 + <i32>(mm / 100);
    if (at <= minute && at > bestAt) { best = v; bestAt = at; }
    if (at > lastAt) { last = v; lastAt = at; }
    i = j + 1;
  }
  if (bestAt >= 0) return best;
  return lastAt >= 0 ? last : dflt;
}

/** Whether a schedule command's text is well formed (empty clears the schedule). */
export function scheduleValid(p: usize, n: i32): bool {
  return n == 0 || scheduleAt(p, n, 0, NAN_CENTI) != NAN_CENTI;
}

/** Setpoint in hundredths: the schedule entry in force, else cfg.sp, else 20.00. */
function setpoint(): i64 {
  const dflt = state.centi("cfg.sp", 2000);
  const n = state.get("cfg.sched");
  if (n <= 0) return dflt;
  // Local time: cfg.tz_min is the offset from UTC in minutes.
  const tz = state.uint("cfg.tz_min", 0);
  const sched = state.get("cfg.sched"); // reload: uint() above reused the value buffer
  const minute = <i32>(((clock_now_ms() / 60000 + tz) % 1440 + 1440) % 1440);
  return scheduleAt(state.valMem, sched, minute, dflt);
}

/** Writes this board's reading as temp.<kid> = "<celsius> <unix ms>". */
function publishOwn(t: i64, now: i64): void {
  state.keyW.reset();
  state.keyW.ascii("temp.");
  state.keyW.bytes(kidMem, kidLen);
  state.valW.reset();
  state.valW.fixed(t, 2);
  state.valW.byte(0x20);
  state.valW.int(now);
  state.setCurrent();
}

/** Minimum of fresh plausible readings under temp.*, including `own`. Sets lastCount. */
function minReading(own: i64, now: i64, maxAgeMs: i64): i64 {
  let m = own;
  let count = 1;
  for (let i = 0; i < MAX_READERS; i++) {
    const k = state.keyAt("temp.", i);
    if (k < 0) break;
    // skip our own key: `own` is already counted and is this tick's value
    if (k == 5 + kidLen && memory.compare(state.keyMem + 5, kidMem, <usize>kidLen) == 0) continue;
    const n = state.getCurrent();
    if (n < 0) continue;
    let sp = 0;
    while (sp < n && load<u8>(state.valMem + <usize>sp) != 0x20) sp++;
    const v = parseCenti(state.valMem, sp);
    const at = sp < n ? parseUint(state.valMem + <usize>sp + 1, n - sp - 1) : -1;
    if (v == NAN_CENTI || at < 0 || v < SENSOR_MIN || v > SENSOR_MAX) continue;
    // stale (that reader has gone quiet), or stamped implausibly far in the future (its clock is wrong)
    if (now - at > maxAgeMs || at - now > maxAgeMs) continue;
    count++;
    if (v < m) m = v;
  }
  lastCount = count;
  return m;
}

function decision(on: bool, why: string, sp: i64): i32 {
  const r = actuator_set(0, on ? 1 : 0);
  heating = r == STATUS_OK ? on : false;
  if (r != STATUS_OK) { actuator_set(0, 0); why = "actuator fault"; }
  lastChange = clock_uptime_ms();
  startBody("dec");
  env.fieldBool("heat", heating);
  env.fieldStr("why", why);
  fieldCenti("t", lastMin);
  env.fieldFixed("sp", sp, 2);
  return send();
}

function raise(kind: i32, t: i64): void {
  if (alarm == kind) return;
  alarm = kind;
  startBody("alarm");
  env.fieldStr("kind", kind == 1 ? "sensor" : kind == 2 ? "over-temperature" : "cleared");
  fieldCenti("t", t);
  send();
}

export function tick(): i32 {
  if (!booted) return STATUS_BAD_ARGUMENT;
  const now = clock_now_ms();
  const up = clock_uptime_ms();
  const sp = setpoint();
  const hyst = state.centi("cfg.hyst", 50);
  const minOn = state.uint("cfg.min_on_s", 180) * 1000;
  const minOff = state.uint("cfg.min_off_s", 180) * 1000;
  const cutoff = state.centi("cfg.cutoff", 3000);
  const maxAge = state.uint("cfg.max_age_s", 300) * 1000;

  const r = sensor_read(0, readMem, 4);
  const t: i64 = r == STATUS_OK ? <i64>load<i32>(readMem) : NAN_CENTI;
  const sensorOk = r == STATUS_OK && t >= SENSOR_MIN && t <= SENSOR_MAX;
  lastT = sensorOk ? t : NAN_CENTI;

  let want = heating;
  let why = "";
  let safety = false;
  if (!sensorOk) {
    lastMin = NAN_CENTI;
    lastCount = 0;
    raise(1, t);
    want = false; why = "cut-off: sensor fault"; safety = true;
  } else {
    publishOwn(t, now);
    lastMin = minReading(t, now, maxAge);
    if (t >= cutoff) {
      raise(2, t);
      want = false; why = "cut-off: over-temperature"; safety = true;
    } else {
      if (alarm != 0) raise(0, t);
      if (up < overrideUntil) {
        if (heating != overrideOn) { want = overrideOn; why = overrideOn ? "override: on" : "override: off"; }
      } else if (heating && lastMin >= sp + hyst) { want = false; why = "reached setpoint + hysteresis"; }
      else if (!heating && lastMin <= sp - hyst) { want = true; why = "below setpoint - hysteresis"; }
    }
  }
  if (want != heating) {
    const held = up - lastChange;
    if (safety || held >= (heating ? minOn : minOff)) decision(want, why, sp);
    else info(heating ? "holding on: minimum on time" : "holding off: minimum off time");
  }

  startBody("tel");
  fieldCenti("t", lastT);
  fieldCenti("tmin", lastMin);
  env.fieldInt("n", lastCount);
  env.fieldFixed("sp", sp, 2);
  env.fieldBool("heat", heating);
  const s = send();
  return s < 0 ? s : heating ? 1 : 0;
}
