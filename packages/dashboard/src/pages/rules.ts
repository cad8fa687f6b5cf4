/**
 * @module The rules page (docs/operations.md "Dashboard", "Rules"): the cloud's rule jobs (GET /api/jobs) and
 * those of the registered gateways (through each gateway's control channel), with their state and counters
 * (in, out, errors, latency of the last output), refreshed every few seconds; start and stop (operator), and
 * move (admin): a cloud job to a registered gateway (POST /api/move, target `gateway:<id>`), a gateway's job
 * back to the cloud (POST /api/v1/rules/return). Rules read every owner's streams, so the page needs a
 * global credential.
 */
import type { Page, PageContext } from '../page.ts';
import { badge, button, el } from '../widgets/dom.ts';
import { virtualTable } from '../widgets/table.ts';
import { movePicker, num, refreshing, statusLine } from './refresh.ts';

type JobInfo = { jobId: string; jobType: string; jobStatus: string; runtime: string };
type Counters = { in: number; out: number; errors: number; dropped: number; lastLatencyMs: number | null };
type Status = { jobInfo: JobInfo; counters: Counters; failure: { code: string; message: string } | null };
type Row = Status & { where: string; gateway?: string };

/** Gateways asked for their jobs at most, and how often (every Nth refresh: each is a control-channel round trip). */
const MAX_GATEWAYS = 16;
const GATEWAY_EVERY = 5;
/** Jobs whose counters are read on each refresh, per runtime. */
const MAX_JOBS = 256;

const STATE_KIND: Record<string, string> = { RUNNING: 'ok', INSTALLED: 'info', STOPPED: 'warn', UNINSTALLED: 'muted' };

async function jobsAt(ctx: PageContext, base: string, where: string, gateway?: string): Promise<Row[]> {
  const list = (await ctx.api<JobInfo[]>(`${base}/api/jobs`)).slice(0, MAX_JOBS);
  const rows = await Promise.all(
    list.map(async (j) => {
      const s = await ctx.api<Status>(`${base}/api/jobs/${encodeURIComponent(j.jobId)}`).catch(() => undefined);
      return s === undefined ? undefined : { ...s, where, ...(gateway !== undefined && { gateway }) };
    }),
  );
  return rows.filter((r): r is Row => r !== undefined);
}

function actions(ctx: PageContext, r: Row, gateways: readonly string[], reload: () => Promise<void>): HTMLElement {
  const id = r.jobInfo.jobId;
  const base = r.gateway === undefined ? '' : `/api/gateways/${encodeURIComponent(r.gateway)}`;
  const cell = el('span', 'actions');
  const op = (what: 'start' | 'stop') =>
    button(
      what === 'start' ? 'Start' : 'Stop',
      async () => {
        await ctx.api(`${base}/api/${what}`, { method: 'POST', body: { jobId: id } });
        await reload();
      },
      { testId: `rule-${what}-${id}`, role: 'operator' },
    );
  cell.append(r.jobInfo.jobStatus === 'RUNNING' ? op('stop') : op('start'));
  if (!ctx.may('admin')) return cell;
  const targets = r.gateway === undefined ? gateways.map((g) => `gateway:${g}`) : ['cloud'];
  cell.append(
    ...movePicker('rule', id, targets, 'admin', async (target) => {
      if (r.gateway !== undefined) await ctx.api('/api/v1/rules/return', { method: 'POST', body: { gateway: r.gateway, jobId: id } });
      else await ctx.api('/api/move', { method: 'POST', body: { jobId: id, target_runtime: target, targetResource: target } });
      await reload();
    }),
  );
  return cell;
}

export const page: Page = {
  path: '/rules',
  title: 'Rules',
  render(root, ctx) {
    const status = statusLine('rules-error');
    const box = el('div');
    root.append(el('h2', undefined, 'Rules'), status, box);
    if (ctx.session.owner !== undefined) {
      box.append(el('p', 'muted', "Rules read every owner's streams: they are the cloud admin's. Log in with a global credential to see them."));
      return undefined;
    }
    let gateways: string[] = [];
    let onGateways: Row[] = [];
    let turn = 0;
    const load = async (): Promise<void> => {
      if (turn++ % GATEWAY_EVERY === 0) {
        gateways = (await ctx.api<{ id: string }[]>('/api/gateways')).map((g) => g.id).slice(0, MAX_GATEWAYS);
        const each = await Promise.all(gateways.map((g) => jobsAt(ctx, `/api/gateways/${encodeURIComponent(g)}`, `gateway:${g}`, g).catch(() => [] as Row[])));
        onGateways = each.flat();
      }
      table.setRows([...(await jobsAt(ctx, '', 'cloud')), ...onGateways]);
    };
    // An action reloads everything, gateways included, so a moved job shows where it went.
    const reload = (): Promise<void> => {
      turn = 0;
      return load();
    };
    const table = virtualTable<Row>(box, {
      rowKey: (r) => `${r.where}/${r.jobInfo.jobId}`,
      rowTestId: (r) => `rule-row-${r.jobInfo.jobId}`,
      rowHeight: 40,
      columns: [
        { key: 'job', title: 'Job', width: '2fr', cell: (r) => r.jobInfo.jobId },
        { key: 'type', title: 'Type', width: '8rem', cell: (r) => r.jobInfo.jobType },
        {
          key: 'where',
          title: 'Runs on',
          width: '9rem',
          cell: (r) => Object.assign(badge(r.where, r.gateway === undefined ? 'info' : 'muted'), { title: r.where }),
        },
        {
          key: 'state',
          title: 'State',
          width: '7rem',
          cell: (r) => {
            const b = badge(r.jobInfo.jobStatus, STATE_KIND[r.jobInfo.jobStatus] ?? 'muted');
            b.dataset['testid'] = `rule-state-${r.jobInfo.jobId}`;
            if (r.failure !== null) b.title = `${r.failure.code}: ${r.failure.message}`;
            return b;
          },
        },
        { key: 'in', title: 'In', width: '4rem', cell: (r) => num(r.counters.in, `rule-in-${r.jobInfo.jobId}`) },
        { key: 'out', title: 'Out', width: '4rem', cell: (r) => num(r.counters.out, `rule-out-${r.jobInfo.jobId}`) },
        { key: 'errors', title: 'Errors', width: '4rem', cell: (r) => num(r.counters.errors, `rule-errors-${r.jobInfo.jobId}`) },
        { key: 'latency', title: 'Latency', width: '5rem', cell: (r) => num(r.counters.lastLatencyMs) },
        { key: 'actions', title: '', width: '19rem', cell: (r) => actions(ctx, r, gateways, reload) },
      ],
    });
    const stop = refreshing(status, load);
    return () => {
      stop();
      table.destroy();
    };
  },
};
