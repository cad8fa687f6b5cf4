/**
 * @module The gateway's status page (docs/gateway.md, "Dashboard"): liveness and readiness with its checks,
 * the broker link and the outbox (`GET /api/status`), refreshed every few seconds.
 */
import type { Page, PageContext } from '../page.ts';
import { badge, el } from '../widgets/dom.ts';
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

function render(root: HTMLElement, ctx: PageContext): () => void {
  const error = errorLine('status-error');
  const facts = el('div');
  const checks = el('ul', 'checks');
  root.replaceChildren(el('h2', undefined, 'Status'), error.node, facts, el('h3', undefined, 'Readiness checks'), checks);
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
  };
  return poll(refresh, REFRESH_MS, error.fail);
}

export const page: Page = { path: '/status', title: 'Status', render };
