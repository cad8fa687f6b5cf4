/**
 * @module The execution core both runners share (in process, and inside each pool worker): instances
 * cached per (owner, namespace, hash), the call's ABI ports (namespace state through a write overlay,
 * clock, log and emit collected into the reply, dev.id = the caller, dev.sign only with a configured
 * key, no sensors or actuators), and the mapping of ABI failures to FERRY_FN_* errors.
 */
import { STATUS } from '@ferry/abi';
import { hmacKey } from '@ferry/message/node';
import {
  callFailure,
  callValue,
  fnFail,
  fnOk,
  FunctionPorts,
  instantiationFailure,
  ModuleInstance,
  type CallContext,
  type CallFailure,
  type FnResult,
  type Invocation,
  type KeyValueState,
  type RunOutput,
} from '@ferry/wasm-host';

const NO_STATE: KeyValueState = { get: () => undefined, set: () => STATUS.QUOTA_EXCEEDED.value, keyAt: () => undefined };

/** Function ports whose per-call parts are swapped before each call (ModuleInstance keeps the object). */
class CallPorts extends FunctionPorts {
  state: KeyValueState = NO_STATE;
  ctx: CallContext = { callerId: '', nowMs: 0, uptimeMs: 0 };
  get deviceId(): string {
    return this.ctx.callerId;
  }
  nowMs(): number {
    return this.ctx.nowMs;
  }
  uptimeMs(): number {
    return this.ctx.uptimeMs;
  }
  sign(data: Uint8Array): Uint8Array | undefined {
    const s = this.ctx.signSecret;
    return s === undefined || s.length < 32 ? undefined : hmacKey(s).mac(data);
  }
}

const failed = (f: CallFailure): FnResult<never> => fnFail(f.code, f.detail, f.details);

interface Slot {
  readonly instance: ModuleInstance;
  readonly ports: CallPorts;
}

export class InstanceCache {
  private readonly slots = new Map<string, Slot>();
  private readonly max: number;

  constructor(max = 1024) {
    this.max = max;
  }

  /**
   * Runs one call over `state`. `commit` runs synchronously right after a successful call, before any
   * other call can read the namespace (an await in between would let a concurrent call read stale
   * state and lose an update). Never throws.
   */
  async run(inv: Invocation, state: KeyValueState, ctx: CallContext, commit?: () => void): Promise<FnResult<RunOutput>> {
    let slot = this.slots.get(inv.instanceKey);
    if (slot === undefined) {
      const ports = new CallPorts();
      ports.state = state;
      ports.ctx = ctx;
      const created = await ModuleInstance.create(inv.compiled, ports);
      if (!created.ok) return failed(instantiationFailure(created.error));
      slot = { instance: created.value, ports };
      if (this.slots.size >= this.max) this.slots.delete(this.slots.keys().next().value!);
      this.slots.set(inv.instanceKey, slot);
    }
    const r = this.callSlot(slot, inv, state, ctx);
    if (r.ok) commit?.();
    return r;
  }

  /** The synchronous part: what the in-process fast path costs per call once the instance exists. */
  private callSlot(slot: Slot, inv: Invocation, state: KeyValueState, ctx: CallContext): FnResult<RunOutput> {
    const p = slot.ports;
    p.state = state;
    p.ctx = ctx;
    p.emits = [];
    p.logs = [];
    const pagesBefore = slot.instance.bytes().length >>> 16;
    const r = slot.instance.call(inv.exportName, ...inv.args);
    const out = { emits: p.emits, logs: p.logs };
    p.state = NO_STATE;
    if (r.ok) return fnOk({ value: callValue(r.value, inv.resultType), ...out });
    this.slots.delete(inv.instanceKey);
    return failed(callFailure(r.error, pagesBefore, slot.instance.bytes().length >>> 16, inv.maxPages));
  }

  get size(): number {
    return this.slots.size;
  }
}
