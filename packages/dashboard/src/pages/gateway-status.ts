/**
 * @module The gateway's status page (docs/gateway.md, "Dashboard"): liveness and readiness with its checks,
 * the broker link and the outbox (`GET /api/status`), refreshed every few seconds; charts of readiness and of
 * the event loop's delay over the last hour from the gateway's health history (docs/operations.md, "Health
 * history"), as the cloud's /health page draws them.
 */
import type { Page, PageContext } from '../page.ts';
import { badge, el } from '../widgets/dom.ts';
import { historyChart } from './history-chart.ts';
import { checkItems, errorLine, factList, poll } from './ops-common.ts';

export interface GatewayStatus {
  readonly gateway: string;
  readonly live: boolean;
  readonly ready: boolean;
  readonly checks: { readonly name: string; readonly ok: boolean; readonly detail?: string }[];
  readonly status: string;
  readonly epoch: number;
  readonly refusing: string | null;
  readonly uplink: { readonly connected: boolean; readonly published: number; readonly acked: number; readonly reconnects: number };
  readonly outbox: { readonly rows: number; readonly bytes: number; readonly droppedOldest: number; readonly refused: number };
}

const REFRESH_MS = 3000;
const RANGE_MS = 3600_000;
const CHARTS = [
  { series: 'readyz', title: 'Ready (1) or not (0)', testId: 'status-ready-chart' },
  { series: 'eventloop.delay_ms', title: 'Event-loop delay (ms)', testId: 'status-eventloop-chart' },
] as const;

function render(root: HTMLElement, ctx: PageContext): () => void {
  const error = errorLine('status-error');
  const facts = el('div');
  const checks = el('ul', 'checks');
  const charts = el('div', 'charts');
  root.replaceChildren(
    el('h2', undefined, 'Status'),
    error.node,
    facts,
    el('h3', undefined, 'Readiness checks'),
    checks,
    el('h3', undefined, 'The last hour'),
    charts,
  );
  const plotted = CHARTS.map((c) => historyChart(charts, ctx, c));
  const refresh = async (): Promise<void> => {
    const s = await ctx.api<GatewayStatus>('/api/status');
    const f = factList();
    f.add('status-gateway', 'Gateway', `${s.gateway} (epoch ${s.epoch})`);
    f.add('status-healthz', '/healthz', badge(s.live ? 'alive' : 'down', s.live ? 'ok' : 'bad'));
    f.add('status-readyz', '/readyz', badge(s.ready ? 'ready' : 'not ready', s.ready ? 'ok' : 'bad'));
    f.add(
      'status-broker',
      'Broker link',
      badge(s.uplink.connected ? 'connected' : 'down', s.uplink.connected ? 'ok' : 'bad'),
      ` ${s.uplink.published} published, ${s.uplink.acked} acknowledged, ${s.uplink.reconnects} reconnects`,
    );
    f.add(
      'status-outbox',
      'Outbox',
      `${s.outbox.rows} messages, ${s.outbox.bytes} bytes buffered; ${s.outbox.droppedOldest} dropped, ${s.outbox.refused} refused`,
      ...(s.refusing === null ? [] : [' ', badge(`refusing: ${s.refusing}`, 'bad')]),
    );
    facts.replaceChildren(f.node);
    checks.replaceChildren(...checkItems(s.checks, 'status-check-'));
    error.clear();
    // The first load takes the whole hour; later ones append what is newer.
    await Promise.all(plotted.map((p) => p.load(RANGE_MS, false).catch(p.fail)));
  };
  const stop = poll(refresh, REFRESH_MS, error.fail);
  return () => {
    stop();
    for (const p of plotted) p.destroy();
  };
}

export const page: Page = { path: '/status', title: 'Status', render };
