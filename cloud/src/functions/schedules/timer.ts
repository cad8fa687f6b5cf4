/**
 * @module The scheduler's timer in a running service: `runDue` now and every `tickMs`, one pass at a time,
 * with failures logged when they change.
 */
import type { Scheduler } from './scheduler.ts';

/** The interval timer the passes run on (the global one by default; tests drive it by hand). */
export interface ScheduleTimers {
  set(f: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const globalTimers: ScheduleTimers = {
  set: (f, ms) => setInterval(f, ms).unref(),
  clear: (h) => clearInterval(h as NodeJS.Timeout),
};

/**
 * Runs `runDue` now and every `tickMs` (default 1000; a period starts at most one tick late), one pass at a
 * time. A pass that fails (the store is down) is retried on the next tick rather than left as an unhandled
 * rejection (Scheduler.start leaves it unhandled); failures are logged when they change, not every tick.
 * `stop()` clears the timer and waits for the pass in flight, so the stores can be closed after it.
 */
export function startSchedules(
  scheduler: Scheduler,
  opts: { tickMs?: number | undefined; log: (msg: string) => void; timers?: ScheduleTimers },
): { stop(): Promise<void>; idle(): Promise<void> } {
  const last = new Map<string, string>();
  let failing: string | undefined;
  let inFlight: Promise<void> | undefined;
  const pass = (): void => {
    if (inFlight !== undefined) return;
    inFlight = scheduler
      .runDue()
      .then(
        (reports) => {
          if (failing !== undefined) opts.log('schedules: the store answers again');
          failing = undefined;
          for (const r of reports) {
            const outcome = r.result.ok ? 'ok' : r.result.error.code;
            const before = last.get(r.scheduleId) ?? 'ok';
            if (last.size >= 10_000) last.clear();
            last.set(r.scheduleId, outcome);
            if (before === outcome) continue;
            opts.log(`schedule ${r.scheduleId} period ${r.periodIndex}: ${r.result.ok ? 'runs again' : r.result.error.message}`);
          }
        },
        (e: unknown) => {
          const msg = e instanceof Error ? e.message : String(e);
          if (msg !== failing) opts.log(`schedules: ${msg}`);
          failing = msg;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
  };
  const timers = opts.timers ?? globalTimers;
  const timer = timers.set(pass, opts.tickMs ?? 1000);
  pass();
  return {
    stop: async () => {
      timers.clear(timer);
      await inFlight;
    },
    /** Resolves once no pass is in flight. */
    idle: async () => {
      await inFlight;
    },
  };
}
