/**
 * @module The board host's gate for downstream data (docs/message-format.md "Downlink"). Everything the cloud
 * sends a board (function replies, namespace state) is a downlink message signed with the board's downlink
 * key; the host verifies it here before the firmware sees any of it, and ignores and counts the rest:
 * unsigned, forged, for another board, of another kind, expired, or replayed (an (epoch, sequence) not newer
 * than the last accepted one of its kind). The key is derived from the board's key and held by the host, in
 * this object; it never enters the module's memory.
 */
import { COMMAND_VERDICT } from '@ferry/abi';
import { DOWNLINK_LEEWAY_MS, DownlinkWindow, verifyDownlink, type Downlink, type DownlinkEvent, type HmacKey } from '@ferry/message';
import { downlinkKey } from '@ferry/message/node';

/** Why a downlink message was refused: a FERRY_MSG_* code, or 'replayed'. */
export type RefusalReason = string;

/** A signed command that verified, and what the host tells the module about it (COMMAND_VERDICT). */
export interface VerifiedCommand {
  readonly downlink: Downlink;
  readonly verdict: number;
}

export interface DownlinkReceiverOptions {
  /** The receiver's wall clock for `exp`, Unix ms (default the host's clock, Date.now: a board keeps it by SNTP). */
  readonly nowMs?: () => number;
  /** A window restored from the host's storage (DownlinkWindow.from), so replays stay refused across restarts. */
  readonly window?: DownlinkWindow;
  /** Called after every accepted message, e.g. to persist `window.toJSON()`. */
  readonly onAccept?: (d: Downlink) => void;
}

export class DownlinkReceiver {
  readonly deviceId: string;
  readonly window: DownlinkWindow;
  /** Messages refused, in all. */
  forged = 0;
  /** Messages refused, by reason. */
  readonly refused = new Map<RefusalReason, number>();
  readonly #key: HmacKey;
  readonly #o: DownlinkReceiverOptions;

  constructor(key: HmacKey, deviceId: string, o: DownlinkReceiverOptions = {}) {
    this.#key = key;
    this.deviceId = deviceId;
    this.window = o.window ?? new DownlinkWindow();
    this.#o = o;
  }

  /** The receiver of the board whose device key is `deviceKey` (the downlink key is derived here). */
  static forDevice(deviceKey: Uint8Array, deviceId: string, o?: DownlinkReceiverOptions): DownlinkReceiver {
    return new DownlinkReceiver(downlinkKey(deviceKey, deviceId), deviceId, o);
  }

  /** The message's content if it is a genuine, fresh downlink of kind `ev` for this board; else undefined (counted). */
  open(payload: string | Uint8Array, ev: DownlinkEvent): Downlink | undefined {
    const d = this.verify(payload, ev);
    return d !== undefined && this.accept(d) ? d : undefined;
  }

  /**
   * Checks signature, audience, kind and expiry, not freshness: for a receiver that must first see whether the
   * message is its own at all (callers sharing a reply topic), then `accept` it. Refusals are counted.
   */
  verify(payload: string | Uint8Array, ev: DownlinkEvent): Downlink | undefined {
    const v = verifyDownlink(payload, this.#key, { aud: this.deviceId, nowMs: (this.#o.nowMs ?? Date.now)(), ev });
    return v.ok ? v.value : this.#refuse(v.error.code);
  }

  /**
   * A signed command (docs/actions.md "On the board"): undefined (counted, no answer) unless it verifies with
   * the downlink key for this board as `cmd`. An authentic one gets a verdict: REPLAYED when its (ep, sq) is
   * not above the highest accepted command, else it is recorded in the window (persisted through onAccept
   * before the module sees it, so a crash never applies it twice) and is EXPIRED past `exp` and the
   * leeway, INVALID without an `exp`, or APPLY.
   */
  openCommand(payload: string | Uint8Array): VerifiedCommand | undefined {
    const nowMs = (this.#o.nowMs ?? Date.now)();
    // Expiry is judged below, after the replay window, so an expired command can still be answered.
    const v = verifyDownlink(payload, this.#key, { aud: this.deviceId, nowMs, ev: 'cmd', leewayMs: Number.POSITIVE_INFINITY });
    if (!v.ok) return this.#refuse(v.error.code);
    const d = v.value;
    if (!this.window.fresh(d.ev, d.ep, d.sq)) {
      this.#refuse('replayed');
      return { downlink: d, verdict: COMMAND_VERDICT.REPLAYED };
    }
    this.accept(d);
    if (d.exp === undefined) return { downlink: d, verdict: COMMAND_VERDICT.INVALID };
    const expired = nowMs / 1000 >= d.exp + DOWNLINK_LEEWAY_MS / 1000;
    return { downlink: d, verdict: expired ? COMMAND_VERDICT.EXPIRED : COMMAND_VERDICT.APPLY };
  }

  /** Records a verified message in the window; false (counted) for a replay or an older message. */
  accept(d: Downlink): boolean {
    if (!this.window.accept(d.ev, d.ep, d.sq)) {
      this.#refuse('replayed');
      return false;
    }
    this.#o.onAccept?.(d);
    return true;
  }

  #refuse(reason: RefusalReason): undefined {
    this.forged++;
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    return undefined;
  }
}
