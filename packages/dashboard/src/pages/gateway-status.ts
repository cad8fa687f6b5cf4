/**
 * @module The gateway's status page (docs/gateway.md, "Dashboard"): liveness and readiness with its checks,
 * the broker link and the outbox (`GET /api/status`), refreshed every few seconds.
 */
import type { Page, PageContext } from '../page.ts';
import { badge, el } from '../widgets/dom.ts';

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

function fact(dl: HTMLElement, testId: string, name: string, ...value: (string | Node)[]): void {
  const dd = el('dd');
  dd.dataset['testid'] = testId;
  dd.append(...value);
  dl.append(el('dt', undefined, name), dd);
}

function render(root: HTMLElement, ctx: PageContext): () => void {
  const error = el('p', 'error');
  error.hidden = true;
  const facts = el('dl');
  const checks = el('ul', 'checks');
  root.replaceChildren(el('h2', undefined, 'Status'), error, facts, el('h3', undefined, 'Readiness checks'), checks);
  const refresh = async (): Promise<void> => {
    const s = await ctx.api<GatewayStatus>('/api/status');
    facts.replaceChildren();
    fact(facts, 'status-gateway', 'Gateway', `${s.gateway} (epoch ${s.epoch})`);
    fact(facts, 'status-healthz', '/healthz', badge(s.live ? 'alive' : 'down', s.live ? 'ok' : 'bad'));
    fact(facts, 'status-readyz', '/readyz', badge(s.ready ? 'ready' : 'not ready', s.ready ? 'ok' : 'bad'));
    fact(
      facts,
      'status-broker',
      'Broker link',
      badge(s.uplink.connected ? 'connected' : 'down', s.uplink.connected ? 'ok' : 'bad'),
      ` ${s.uplink.published} published, ${s.uplink.acked} acknowledged, ${s.uplink.reconnects} reconnects`,
    );
    fact(
      facts,
      'status-outbox',
      'Outbox',
      `${s.outbox.rows} messages, ${s.outbox.bytes} bytes buffered; ${s.outbox.droppedOldest} dropped, ${s.outbox.refused} refused`,
      ...(s.refusing === null ? [] : [' ', badge(`refusing: ${s.refusing}`, 'bad')]),
    );
    checks.replaceChildren(
      ...s.checks.map((c) => {
        const li = el('li');
        li.dataset['testid'] = `status-check-${c.name}`;
        li.append(badge(c.ok ? 'ok' : 'failed', c.ok ? 'ok' : 'bad'), ` ${c.name}${c.detail === undefined ? '' : `: ${c.detail}`}`);
        return li;
      }),
    );
    error.hidden = true;
  };
  const fail = (e: unknown): void => {
    error.textContent = e instanceof Error ? e.message : String(e);
    error.hidden = false;
  };
  refresh().catch(fail);
  const timer = setInterval(() => refresh().catch(fail), REFRESH_MS);
  return () => clearInterval(timer);
}

export const page: Page = { path: '/status', title: 'Status', render };
