/**
 * @module The streams page (/streams?device=&event=): pick a device and an event; one chart per numeric field.
 * History comes downsampled from GET /api/v1/series (mean per bucket over the chosen range), then points
 * arrive live over GET /api/v1/live (server-sent events) and are appended; each chart keeps a bounded window.
 */
import type { Page, PageContext } from '../page.ts';
import { timeChart, type TimeChart } from '../widgets/chart.ts';
import { numericFields } from '../fields.ts';
import { el } from '../widgets/dom.ts';
import { renderSoStream } from './so-stream.ts';

interface Bucketed {
  readonly t: number[];
  readonly mean: number[];
}
interface Series {
  readonly fields: Record<string, Bucketed>;
  /** The range held more stored points than one answer reads: only the newest were charted. */
  readonly truncated?: boolean;
}
interface LivePoint {
  readonly t: number;
  readonly event: string;
  readonly value: unknown;
}

const RANGES: readonly [string, number][] = [
  ['15 minutes', 900_000],
  ['1 hour', 3_600_000],
  ['6 hours', 21_600_000],
  ['24 hours', 86_400_000],
];
const MAX_CHART_POINTS = 5000;

function select(testId: string, options: readonly [string, string][], value: string): HTMLSelectElement {
  const s = el('select');
  s.dataset['testid'] = testId;
  for (const [v, label] of options) {
    const o = el('option', undefined, label);
    o.value = v;
    s.append(o);
  }
  s.value = value;
  return s;
}

export const page: Page = {
  path: '/streams',
  title: 'Streams',
  render(root, ctx) {
    const params = new URLSearchParams(location.search);
    const so = params.get('so');
    const soStream = params.get('stream');
    if (so !== null && soStream !== null) return renderSoStream(root, ctx, so, soStream); // a composite stream (so-stream.ts)
    const bar = el('div', 'toolbar');
    const devicePick = select('streams-device', [['', 'Device…']], '');
    const eventInput = el('input');
    eventInput.placeholder = 'event';
    eventInput.dataset['testid'] = 'streams-event';
    eventInput.setAttribute('list', 'streams-events');
    eventInput.value = params.get('event') ?? '';
    const events = el('datalist');
    events.id = 'streams-events';
    const range = select(
      'streams-range',
      RANGES.map(([label, ms]) => [String(ms), label]),
      String(RANGES[1]![1]),
    );
    const status = el('span', 'muted');
    status.dataset['testid'] = 'streams-status';
    bar.append(devicePick, eventInput, events, range, status);
    const charts = el('div', 'charts');
    root.replaceChildren(el('h2', undefined, 'Streams'), bar, charts);
    let session: Session | undefined;
    const stop = (): void => {
      session?.close();
      session = undefined;
    };

    const show = async (): Promise<void> => {
      stop();
      charts.replaceChildren();
      const device = devicePick.value;
      const event = eventInput.value.trim();
      history.replaceState(null, '', `/streams?${new URLSearchParams({ ...(device !== '' && { device }), ...(event !== '' && { event }) }).toString()}`);
      if (device === '') {
        status.textContent = 'Pick a device.';
        return;
      }
      void ctx
        .api<{ events: string[] }>(`/api/v1/series/events?device=${encodeURIComponent(device)}`)
        .then((r) => events.replaceChildren(...r.events.map((e) => Object.assign(el('option'), { value: e }))))
        .catch(() => undefined);
      if (event === '') {
        status.textContent = 'Name an event (the picker lists those seen since the cloud started).';
        return;
      }
      const s = new Session(charts);
      session = s;
      await s.start(ctx, device, event, Number(range.value), status);
    };
    devicePick.addEventListener('change', () => void show());
    eventInput.addEventListener('change', () => void show());
    range.addEventListener('change', () => void show());
    void ctx
      .api<{ id: string }[]>('/api/devices')
      .then((ds) => {
        for (const d of ds) {
          const o = el('option', undefined, d.id);
          o.value = d.id;
          devicePick.append(o);
        }
        const want = params.get('device');
        if (want !== null && ds.some((d) => d.id === want)) devicePick.value = want;
        return show();
      })
      .catch((e: unknown) => {
        status.textContent = e instanceof Error ? e.message : String(e);
      });
    return stop;
  },
};

/** One device and event on screen: its charts and its live stream. */
class Session {
  readonly #charts = new Map<string, { chart: TimeChart; box: HTMLElement; points: number }>();
  #close: (() => void) | undefined;
  #closed = false;
  readonly root: HTMLElement;
  constructor(root: HTMLElement) {
    this.root = root;
  }

  #chart(field: string): { chart: TimeChart; box: HTMLElement; points: number } {
    let c = this.#charts.get(field);
    if (c === undefined) {
      const box = el('div');
      box.dataset['testid'] = `chart-${field}`;
      this.root.append(box);
      c = { chart: timeChart(box, { title: field, series: [field], maxPoints: MAX_CHART_POINTS }), box, points: 0 };
      this.#charts.set(field, c);
    }
    return c;
  }

  #count(c: { box: HTMLElement; points: number }, n: number): void {
    c.points = Math.min(MAX_CHART_POINTS, n);
    c.box.dataset['points'] = String(c.points);
  }

  async start(ctx: PageContext, device: string, event: string, rangeMs: number, status: HTMLElement): Promise<void> {
    const q = (o: Record<string, string>): string => new URLSearchParams({ device, event, ...o }).toString();
    const to = Date.now();
    try {
      const s = await ctx.api<Series>(`/api/v1/series?${q({ from: String(to - rangeMs), to: String(to + 1), points: '1000' })}`);
      if (this.#closed) return;
      for (const [field, b] of Object.entries(s.fields)) {
        const c = this.#chart(field);
        c.chart.setData(b.t, [b.mean]);
        this.#count(c, b.t.length);
      }
      status.textContent =
        Object.keys(s.fields).length === 0
          ? 'No numeric data in this range yet; waiting for live points.'
          : s.truncated === true
            ? 'Live. The range holds more points than one chart reads: only its newest part is shown; choose a shorter range.'
            : 'Live.';
    } catch (e) {
      status.textContent = e instanceof Error ? e.message : String(e);
      return;
    }
    this.#close = ctx.live(`/api/v1/live?${q({})}`, (data, name) => {
      if (name !== 'point' || this.#closed) return;
      const p = data as LivePoint;
      for (const [field, v] of numericFields(p.value)) {
        const c = this.#chart(field);
        c.chart.append(p.t, [v]);
        this.#count(c, c.points + 1);
      }
    });
  }

  close(): void {
    this.#closed = true;
    this.#close?.();
    for (const c of this.#charts.values()) c.chart.destroy();
    this.#charts.clear();
  }
}
