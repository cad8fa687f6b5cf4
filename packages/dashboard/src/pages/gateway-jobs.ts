/**
 * @module The gateway's rule jobs page (docs/gateway.md, "Dashboard"): every edge rule job with its state and
 * counters (`GET /api/job-reports`), started and stopped with the rule API (`POST /api/start`, `/api/stop`).
 */
import type { Page, PageContext } from '../page.ts';
import { badge, button, el } from '../widgets/dom.ts';
import { virtualTable } from '../widgets/table.ts';
import { errorLine, fitRows, poll } from './ops-common.ts';

export interface JobReport {
  readonly jobInfo: { readonly jobId: string; readonly jobType: string; readonly jobStatus: string };
  readonly counters: { readonly in: number; readonly out: number; readonly dropped: number; readonly errors: number; readonly lastLatencyMs: number | null };
  readonly failure: { readonly message?: string } | null;
}

const REFRESH_MS = 3000;
const STATE_BADGE: Record<string, string> = { RUNNING: 'ok', FAILED: 'bad', STOPPED: 'muted', INSTALLED: 'info' };

function render(root: HTMLElement, ctx: PageContext): () => void {
  const error = errorLine('jobs-error');
  const box = el('div');
  root.replaceChildren(el('h2', undefined, 'Rule jobs'), error.node, box);
  const op = (what: 'start' | 'stop', jobId: string) => async (): Promise<void> => {
    await ctx.api(`/api/${what}`, { method: 'POST', body: { jobId } });
    await refresh();
  };
  const table = virtualTable<JobReport>(box, {
    columns: [
      { key: 'id', title: 'Job', width: '2fr', cell: (j) => j.jobInfo.jobId },
      { key: 'type', title: 'Type', width: '8rem', cell: (j) => j.jobInfo.jobType },
      {
        key: 'state',
        title: 'State',
        width: '7rem',
        cell: (j) => {
          // A job that stopped itself on a failure is STOPPED with a failure (docs/rules.md): shown as failed.
          const b = j.failure === null ? badge(j.jobInfo.jobStatus, STATE_BADGE[j.jobInfo.jobStatus] ?? 'muted') : badge('FAILED', 'bad');
          b.dataset['testid'] = `job-state-${j.jobInfo.jobId}`;
          if (j.failure?.message !== undefined) b.title = j.failure.message;
          return b;
        },
      },
      {
        key: 'in',
        title: 'In',
        width: '5rem',
        cell: (j) => {
          const n = el('span', undefined, String(j.counters.in));
          n.dataset['testid'] = `job-in-${j.jobInfo.jobId}`;
          return n;
        },
      },
      { key: 'out', title: 'Out', width: '5rem', cell: (j) => String(j.counters.out) },
      { key: 'dropped', title: 'Dropped', width: '5rem', cell: (j) => String(j.counters.dropped) },
      { key: 'errors', title: 'Errors', width: '5rem', cell: (j) => String(j.counters.errors) },
      {
        key: 'actions',
        title: '',
        width: '6rem',
        cell: (j) =>
          j.jobInfo.jobStatus === 'RUNNING'
            ? button('Stop', op('stop', j.jobInfo.jobId), { testId: `job-stop-${j.jobInfo.jobId}`, role: 'operator' })
            : button('Start', op('start', j.jobInfo.jobId), { testId: `job-start-${j.jobInfo.jobId}`, role: 'operator' }),
      },
    ],
    rowKey: (j) => j.jobInfo.jobId,
    rowTestId: (j) => `job-row-${j.jobInfo.jobId}`,
  });
  async function refresh(): Promise<void> {
    const r = await ctx.api<{ jobs: JobReport[] }>('/api/job-reports');
    table.setRows(r.jobs);
    fitRows(box, r.jobs.length, 20);
    error.clear();
  }
  const stop = poll(refresh, REFRESH_MS, error.fail);
  return () => {
    stop();
    table.destroy();
  };
}

export const page: Page = { path: '/jobs', title: 'Rule jobs', render };
