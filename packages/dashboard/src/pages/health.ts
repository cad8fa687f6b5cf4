/**
 * @module The health page (docs/operations.md, "Dashboard: health"): readiness with its checks, the supervised
 * components, the incidents, the latency probe with a chart of `probe.latency_ms`, and a chart of the event
 * loop's delay, both from the health history API (downsampled on the server). Refreshed every few seconds: the
 * charts get the points newer than their last one. Every route here needs a global viewer.
 */
import type { Page, PageContext } from '../page.ts';
import { badge, el, when } from '../widgets/dom.ts';
import { historyChart } from './history-chart.ts';
import { checkItems, errorLine, poll } from './ops-common.ts';

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}
interface Component {
  readonly name: string;
  readonly ok: boolean;
  readonly since?: number;
  readonly attempts?: number;
  readonly message?: string;
}
interface Incident {
  readonly id: number;
  readonly at: number;
  readonly component: string;
  readonly kind: string;
  readonly attempt: number;
  readonly message: string;
}
type Probe =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      readonly id: string;
      readonly periodMs: number;
      readonly sent: number;
      readonly received: number;
      readonly lost: number;
      readonly lastMs?: number | null;
      readonly p50Ms?: number | null;
      readonly p99Ms?: number | null;
    };
interface Summary {
  readonly ready: boolean;
  readonly checks: Check[];
  readonly components: Component[];
  readonly devices: { readonly online: number; readonly offline: number };
  readonly probe: Probe;
}
/** How far back the charts reach, selectable; the server downsamples each. */
export const RANGES: Readonly<Record<string, number>> = {
  '15 min': 15 * 60_000,
  '1 h': 3600_000,
  '6 h': 6 * 3600_000,
  '24 h': 24 * 3600_000,
  '7 d': 7 * 24 * 3600_000,
};
const REFRESH_MS = 5000;
const CHARTS = [
  { series: 'probe.latency_ms', title: 'Latency probe, end to end (ms)', testId: 'probe-chart' },
  { series: 'eventloop.delay_ms', title: 'Event-loop delay (ms)', testId: 'eventloop-chart' },
] as const;

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${v.toFixed(2)} ms`);

function probeText(p: Probe): string {
  if (!p.enabled) return 'The latency probe is off (ferry cloud start --probe <seconds>).';
  return `p50 ${ms(p.p50Ms)}, p99 ${ms(p.p99Ms)}, last ${ms(p.lastMs)}; ${p.sent} sent, ${p.received} back, ${p.lost} lost (every ${p.periodMs / 1000} s)`;
}

function render(root: HTMLElement, ctx: PageContext): () => void {
  let rangeMs = RANGES['1 h']!;
  const ready = el('p');
  ready.dataset['testid'] = 'health-ready';
  const checks = el('ul', 'checks');
  const components = el('ul', 'components');
  const probe = el('p');
  probe.dataset['testid'] = 'probe-summary';
  const charts = el('div', 'charts');
  const incidents = el('ol', 'incidents');
  incidents.dataset['testid'] = 'incidents';
  const error = errorLine('health-error');
  const range = el('select');
  range.dataset['testid'] = 'health-range';
  for (const k of Object.keys(RANGES)) range.append(Object.assign(el('option', undefined, k), { value: k, selected: RANGES[k] === rangeMs }));
  const toolbar = el('div', 'toolbar');
  toolbar.append(el('span', undefined, 'Charts over '), range);
  root.replaceChildren(
    el('h2', undefined, 'Health'),
    error.node,
    ready,
    checks,
    el('h3', undefined, 'Components'),
    components,
    el('h3', undefined, 'Latency probe'),
    probe,
    toolbar,
    charts,
    el('h3', undefined, 'Incidents'),
    incidents,
  );

  const plotted = CHARTS.map((c) => historyChart(charts, ctx, c));

  const drawSummary = (s: Summary): void => {
    ready.replaceChildren(badge(s.ready ? 'ready' : 'not ready', s.ready ? 'ok' : 'bad'), ` devices ${s.devices.online} online, ${s.devices.offline} offline`);
    checks.replaceChildren(...checkItems(s.checks, 'health-check-'));
    components.replaceChildren(
      ...(s.components.length === 0
        ? [el('li', 'muted', 'No supervised components.')]
        : s.components.map((c) => {
            const li = el('li');
            li.dataset['testid'] = `health-component-${c.name}`;
            const failing = c.ok ? '' : ` since ${when(c.since)}, ${c.attempts ?? 0} restart(s): ${c.message ?? 'failing'}`;
            li.append(badge(c.ok ? 'ok' : 'failing', c.ok ? 'ok' : 'bad'), ` ${c.name}${failing}`);
            return li;
          })),
    );
    probe.textContent = probeText(s.probe);
  };

  const drawIncidents = (list: Incident[]): void => {
    incidents.replaceChildren(
      ...(list.length === 0
        ? [el('li', 'muted', 'No incidents.')]
        : list.map((i) => {
            const li = el('li', undefined, `${when(i.at)} ${i.component} ${i.kind} #${i.attempt}: ${i.message}`);
            li.dataset['testid'] = `incident-${i.id}`;
            return li;
          })),
    );
  };

  const refresh = async (full: boolean): Promise<void> => {
    const [s, inc] = await Promise.all([ctx.api<Summary>('/api/v1/health'), ctx.api<Incident[]>('/api/v1/health/incidents?limit=100')]);
    drawSummary(s);
    drawIncidents(inc);
    error.clear();
    await Promise.all(plotted.map((p) => p.load(rangeMs, full).catch(p.fail)));
  };

  range.addEventListener('change', () => {
    rangeMs = RANGES[range.value] ?? rangeMs;
    refresh(true).catch(error.fail);
  });
  let first = true;
  const stop = poll(
    () => {
      const full = first;
      first = false;
      return refresh(full);
    },
    REFRESH_MS,
    error.fail,
  );
  return () => {
    stop();
    for (const p of plotted) p.destroy();
  };
}

export const page: Page = { path: '/health', title: 'Health', render };
