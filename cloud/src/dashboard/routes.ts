/**
 * @module The cloud's data routes for the dashboard's streams page (docs/operations.md, "Dashboard"), for
 * viewers of the device's owner (another owner's device answers 404; the cloud's admin reads any):
 * - GET /api/v1/series?device=&event=&field=&from=&to=&points=: a stream's numeric fields downsampled on the
 *   server (downsample.ts: mean, min, max per bucket), at most `points` buckets (default 500, max 5000), from
 *   the newest MAX_READ stored points of the range (`truncated` says older ones were left unread);
 * - GET /api/v1/series/events?device=: the events the device sent since the cloud started (for the picker);
 * - GET /api/v1/live?device=&event=: server-sent events (WHATWG HTML "Server-sent events"), one `point` per
 *   telemetry message of the device as ingest releases it (after its sequence checks), bounded per owner
 *   (LIVE_PER_OWNER) like the composite streams' events.
 * The devices page needs no route of its own: GET /api/devices and GET /api/v1/health/devices.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf } from '../api/auth.ts';
import { SseStreams } from '../api/sse.ts';
import { deviceFor } from '../api/devices.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Ingest, IngestEvent, Point, TimeSeriesStore } from '../ingest/index.ts';
import { downsample, fieldValue, MAX_FIELDS, numericFields, type Bucketed } from './downsample.ts';
import { DashError, DashQueryError } from './errors.ts';

/** Open live streams per owner (per credential for a global one); docs/limits.md. */
export const LIVE_PER_OWNER = 16;
/** Buckets a series answers at most, and by default. */
export const MAX_POINTS = 5000;
const DEFAULT_POINTS = 500;
/** Stored points one series answer reads at most: the newest of its range (docs/limits.md). */
export const MAX_READ = 200_000;
/** The default range of a series: the last hour. */
const DEFAULT_RANGE_MS = 3_600_000;
/** How often a live stream reads the shared store in scale-out, ms. */
export const LIVE_POLL_MS = 1000;
/**
 * How far back each poll reads again: a point's time is its arrival at the worker that took it, which may
 * store it a little after a later one (its re-order buffer, its clock); the points already sent are skipped.
 */
const LIVE_OVERLAP_MS = 10_000;
/** Points one poll reads at most (the newest), and the sent ids a stream remembers to skip. */
const LIVE_POLL_MAX = 1000;
const LIVE_SEEN = 4096;
/** Events remembered per device for the picker. */
const EVENTS_PER_DEVICE = 32;
const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface DashboardParts {
  readonly ingest: Pick<Ingest, 'subscribe' | 'series'>;
  readonly devices: DeviceRegistry;
  /**
   * Scale-out: other workers ingest this device's messages too, so a live stream of one event also reads the
   * shared time series every `pollMs` (default LIVE_POLL_MS) for points this process did not see.
   */
  readonly shared?: boolean;
  readonly pollMs?: number;
}

interface Q {
  readonly [k: string]: unknown;
}

function name(q: Q, key: string, required: true): string;
function name(q: Q, key: string, required: false): string | undefined;
function name(q: Q, key: string, required: boolean): string | undefined {
  const v = q[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !NAME.test(v)) throw new DashQueryError(key, `${key} must be 1 to 64 of A-Z a-z 0-9 _ . : -`);
  return v;
}

function int(q: Q, key: string, fallback: number, min: number, max: number): number {
  const v = q[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n < min || n > max) throw new DashQueryError(key, `${key} must be an integer from ${min} to ${max}`);
  return n;
}

/** The device named in `?device=`, if the caller may read it (the cloud's admin: any id, as /api/streams). */
function readable(devices: DeviceRegistry, req: FastifyRequest, q: Q): string {
  const device = name(q, 'device', true);
  const p = principalOf(req);
  if (p.owner !== undefined || devices.placeOf(device) !== undefined) deviceFor(devices, p, device, 'viewer');
  return device;
}

/**
 * The newest `maxRead` points of a stream's range, and whether older ones were left unread: a long range of a
 * busy device is bounded in memory and time, and the chart shows its most recent part.
 */
export async function readSeries(
  series: TimeSeriesStore,
  stream: string,
  from: number,
  to: number,
  maxRead = MAX_READ,
): Promise<{ points: readonly Point[]; truncated: boolean }> {
  const read = [...(await series.query(stream, from, to, { count: maxRead + 1, newest: true }))];
  const truncated = read.length > maxRead;
  if (truncated) read.shift();
  return { points: read, truncated };
}

const eventOf = (e: IngestEvent & { type: 'message' }): string => (e.stream.startsWith(`${e.kid}/`) ? e.stream.slice(e.kid.length + 1) : e.stream);

export function dashboardRoutes(app: FastifyInstance, d: DashboardParts): void {
  const events = new Map<string, Set<string>>();
  const listeners = new Set<(e: IngestEvent & { type: 'message' }) => void>();
  const off = d.ingest.subscribe((e) => {
    if (e.type !== 'message') return;
    // Only registered devices are remembered: the map stays as large as the registry at most.
    if (d.devices.placeOf(e.kid) !== undefined) {
      const seen = events.get(e.kid) ?? new Set<string>();
      if (seen.size < EVENTS_PER_DEVICE) seen.add(eventOf(e));
      events.set(e.kid, seen);
    }
    for (const l of listeners) l(e);
  });
  const streams = new SseStreams(app, LIVE_PER_OWNER);
  app.addHook('onClose', async () => {
    off();
  });

  app.get('/api/v1/series', { config: { access: 'viewer' } }, async (req) => {
    const q = (req.query ?? {}) as Q;
    const device = readable(d.devices, req, q);
    const event = name(q, 'event', true);
    const field = name(q, 'field', false);
    const to = int(q, 'to', Date.now(), 0, Number.MAX_SAFE_INTEGER);
    const from = int(q, 'from', Math.max(0, to - DEFAULT_RANGE_MS), 0, Number.MAX_SAFE_INTEGER);
    if (from >= to) throw new DashQueryError('from', 'from must be before to');
    const points = int(q, 'points', DEFAULT_POINTS, 1, MAX_POINTS);
    const { points: stored, truncated } = await readSeries(d.ingest.series, `${device}/${event}`, from, to);
    const samples = new Map<string, [number, number][]>();
    for (const p of stored) {
      const fields = field !== undefined ? new Map([[field, fieldValue(p.value, field)]]) : numericFields(p.value);
      for (const [f, v] of fields) {
        if (v === undefined) continue;
        let s = samples.get(f);
        if (s === undefined) {
          if (samples.size >= MAX_FIELDS) continue;
          s = [];
          samples.set(f, s);
        }
        s.push([p.ts, v]);
      }
    }
    const fields: Record<string, Bucketed> = {};
    for (const [f, s] of samples) fields[f] = downsample(s, from, to, points);
    return { device, event, from, to, points: stored.length, truncated, fields };
  });

  app.get('/api/v1/series/events', { config: { access: 'viewer' } }, async (req) => {
    const device = readable(d.devices, req, (req.query ?? {}) as Q);
    return { device, events: [...(events.get(device) ?? [])].sort() };
  });

  app.get('/api/v1/live', { config: { access: 'viewer' } }, async (req, reply) => {
    const q = (req.query ?? {}) as Q;
    const device = readable(d.devices, req, q);
    const event = name(q, 'event', false);
    const p = principalOf(req);
    const who = p.owner ?? `global:${p.id}`;
    if (streams.full(who)) throw new DashError('FERRY_DASH_LIVE_QUOTA', `${LIVE_PER_OWNER} live streams are open for this owner`);
    // Each point once, however it came (pushed by this process's ingest, or read from the shared store).
    const seen = new Set<string>();
    const send = (ev: string, t: number, ep: number, sq: number, value: unknown): void => {
      const id = `${ep}.${sq}`;
      if (seen.has(id)) return;
      seen.add(id);
      if (seen.size > LIVE_SEEN) seen.delete(seen.values().next().value as string);
      // A reader that does not keep up is let go rather than buffered without bound (SseStream.send).
      sse.send('point', { device, event: ev, t, ep, sq, value }, id);
    };
    const listener = (e: IngestEvent & { type: 'message' }): void => {
      if (e.kid !== device || (event !== undefined && eventOf(e) !== event)) return;
      send(eventOf(e), e.at, e.ep, e.sq, e.message.claims['d'] ?? null);
    };
    let poll: NodeJS.Timeout | undefined;
    const sse = streams.open(req, reply, who, 'ferry live', () => {
      listeners.delete(listener);
      clearInterval(poll);
    });
    listeners.add(listener);
    if (d.shared === true && event !== undefined) {
      // Points that arrived before the stream opened are history (GET /api/v1/series), not live.
      const opened = Date.now();
      let from = opened;
      let busy = false;
      poll = setInterval(() => {
        if (busy || sse.ended) return;
        busy = true;
        const now = Date.now();
        void Promise.resolve(d.ingest.series.query(`${device}/${event}`, from, Number.MAX_SAFE_INTEGER, { count: LIVE_POLL_MAX, newest: true }))
          .then((points) => {
            for (const p of points) if (p.kid === device && p.ts >= opened) send(event, p.ts, p.ep, p.sq, p.value);
            from = Math.max(opened, now - LIVE_OVERLAP_MS);
          })
          .catch(() => undefined) // the store is unreachable: the next poll tries again
          .finally(() => {
            busy = false;
          });
      }, d.pollMs ?? LIVE_POLL_MS);
    }
  });
}
