/**
 * @module The alarms page (docs/operations.md, "Dashboard: alarms"): the caller's alarms in a virtual table,
 * filtered by status and severity, kept live by `GET /api/v1/alarms/events`; an operator acknowledges, clears
 * and assigns; a row opens its detail with the history. `?id=<alarm>` opens one directly (a link to share).
 */
import type { Page, PageContext } from '../page.ts';
import { badge, button, el, when } from '../widgets/dom.ts';
import { virtualTable } from '../widgets/table.ts';
import { errorLine, factList, fitRows } from './ops-common.ts';

/** The alarm service's Alarm (docs/operations.md, "Alarm REST API"). */
export interface Alarm {
  readonly id: string;
  readonly owner?: string;
  readonly type: string;
  readonly source: string;
  readonly severity: string;
  readonly status: 'active' | 'acknowledged' | 'cleared';
  readonly acknowledged: boolean;
  readonly count: number;
  readonly assignee?: string;
  readonly rule?: string;
  readonly reason: string;
  readonly value?: unknown;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly ackMs?: number;
  readonly clearedMs?: number;
  readonly history?: readonly { atMs: number; what: string; by?: string; detail?: string }[];
}

/** Most severe first, as the rule engine's SEVERITIES. */
export const SEVERITY_ORDER = ['critical', 'major', 'minor', 'warning', 'indeterminate'] as const;
const SEVERITY_BADGE: Record<string, string> = { critical: 'bad', major: 'bad', minor: 'warn', warning: 'warn', indeterminate: 'muted' };
const STATUS_BADGE: Record<string, string> = { active: 'bad', acknowledged: 'warn', cleared: 'ok' };
const STATUSES = ['active', 'acknowledged', 'cleared'] as const;
/** Alarms listed at most (the API's own maximum). */
const LIST_LIMIT = 1000;

export interface AlarmFilter {
  readonly status: string;
  readonly severity: string;
}

/** Whether `a` passes the filter ('' passes anything). */
export const matches = (a: Alarm, f: AlarmFilter): boolean => (f.status === '' || a.status === f.status) && (f.severity === '' || a.severity === f.severity);

/** Newest first, as the API lists them. */
export const newestFirst = (alarms: Iterable<Alarm>): Alarm[] => [...alarms].sort((a, b) => b.lastMs - a.lastMs || (a.id < b.id ? 1 : -1));

function select(testId: string, label: string, options: readonly string[], value: string, onChange: (v: string) => void): HTMLElement {
  const wrap = el('label', undefined, `${label} `);
  const s = el('select');
  s.dataset['testid'] = testId;
  for (const o of ['', ...options]) {
    const opt = el('option', undefined, o === '' ? 'all' : o);
    opt.value = o;
    s.append(opt);
  }
  s.value = value;
  s.addEventListener('change', () => onChange(s.value));
  wrap.append(s);
  return wrap;
}

function statusBadge(a: Alarm, testId = `alarm-status-${a.id}`): HTMLElement {
  const b = badge(a.status, STATUS_BADGE[a.status] ?? 'muted');
  b.dataset['testid'] = testId;
  return b;
}

function render(root: HTMLElement, ctx: PageContext): () => void {
  const params = new URLSearchParams(location.search);
  let filter: AlarmFilter = { status: params.get('status') ?? '', severity: params.get('severity') ?? '' };
  let selected = params.get('id') ?? undefined;
  const alarms = new Map<string, Alarm>();

  const h = el('h2', undefined, 'Alarms');
  const toolbar = el('div', 'toolbar');
  const error = errorLine('alarms-error');
  const tableBox = el('div');
  tableBox.style.flex = '3 1 0';
  tableBox.style.minWidth = '0';
  const detail = el('aside', 'detail');
  detail.dataset['testid'] = 'alarm-detail';
  Object.assign(detail.style, { flex: '1 1 0', minWidth: '16rem', overflowWrap: 'anywhere', display: 'none' });
  const body = el('div');
  Object.assign(body.style, { display: 'flex', gap: '1rem', alignItems: 'flex-start' });
  body.append(tableBox, detail);
  root.replaceChildren(h, toolbar, error.node, body);

  const act = (a: Alarm): HTMLElement => {
    const box = el('span', 'actions');
    if (a.status === 'active') box.append(button('Ack', () => change(a.id, 'ack'), { testId: `alarm-ack-${a.id}`, role: 'operator' }));
    if (a.status !== 'cleared') box.append(button('Clear', () => change(a.id, 'clear'), { testId: `alarm-clear-${a.id}`, role: 'operator' }));
    return box;
  };
  const table = virtualTable<Alarm>(tableBox, {
    columns: [
      { key: 'severity', title: 'Severity', width: '6.5rem', cell: (a) => badge(a.severity, SEVERITY_BADGE[a.severity] ?? 'muted') },
      { key: 'type', title: 'Type', width: '1fr', cell: (a) => a.type },
      { key: 'source', title: 'Source', width: '1.2fr', cell: (a) => a.source },
      { key: 'status', title: 'Status', width: '7.5rem', cell: (a) => statusBadge(a) },
      { key: 'count', title: 'Count', width: '3.5rem', cell: (a) => String(a.count) },
      { key: 'first', title: 'First', width: '8rem', cell: (a) => when(a.firstMs) },
      { key: 'last', title: 'Last', width: '8rem', cell: (a) => when(a.lastMs) },
      { key: 'assignee', title: 'Assignee', width: '6rem', cell: (a) => a.assignee ?? '—' },
      { key: 'actions', title: '', width: '8.5rem', cell: act },
    ],
    rowKey: (a) => a.id,
    rowTestId: (a) => `alarm-row-${a.id}`,
    onRow: (a) => open(a.id),
  });

  const show = (): void => {
    const rows = newestFirst([...alarms.values()].filter((a) => matches(a, filter)));
    table.setRows(rows);
    fitRows(tableBox, rows.length, 20);
  };
  const fail = error.fail;

  const load = async (): Promise<void> => {
    const q = new URLSearchParams({ limit: String(LIST_LIMIT) });
    if (filter.status !== '') q.set('status', filter.status);
    if (filter.severity !== '') q.set('severity', filter.severity);
    const r = await ctx.api<{ alarms: Alarm[] }>(`/api/v1/alarms?${q}`);
    alarms.clear();
    for (const a of r.alarms) alarms.set(a.id, a);
    error.clear();
    show();
  };

  const setFilter = (f: AlarmFilter): void => {
    filter = f;
    const q = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(f)) v === '' ? q.delete(k) : q.set(k, v);
    history.replaceState(null, '', `${location.pathname}${q.size > 0 ? `?${q}` : ''}`);
    load().catch(fail);
  };
  toolbar.append(
    select('alarm-filter-status', 'Status', STATUSES, filter.status, (status) => setFilter({ ...filter, status })),
    select('alarm-filter-severity', 'Severity', SEVERITY_ORDER, filter.severity, (severity) => setFilter({ ...filter, severity })),
  );

  /** An alarm the server answered after a change or an event: the table and, if open, the detail follow it. */
  const update = (a: Alarm): void => {
    const { history: _h, ...row } = a;
    alarms.set(a.id, row);
    show();
    if (selected === a.id) open(a.id);
  };

  async function change(id: string, what: 'ack' | 'clear'): Promise<void> {
    update(await ctx.api<Alarm>(`/api/v1/alarms/${encodeURIComponent(id)}/${what}`, { method: 'POST' }));
  }

  function drawDetail(a: Alarm): void {
    const close = button('Close', () => {
      selected = undefined;
      detail.replaceChildren();
      detail.style.display = 'none';
    });
    const facts = factList('6.5rem');
    const fact = (k: string, v: string | Node): void => facts.add(undefined, k, v);
    fact('Severity', badge(a.severity, SEVERITY_BADGE[a.severity] ?? 'muted'));
    fact('Status', statusBadge(a, 'alarm-detail-status'));
    fact('Source', a.source);
    fact('Reason', a.reason);
    if (a.value !== undefined) fact('Value', JSON.stringify(a.value));
    if (a.rule !== undefined) fact('Rule', a.rule);
    fact('Count', String(a.count));
    fact('First / last', `${when(a.firstMs)} / ${when(a.lastMs)}`);
    fact('Assignee', a.assignee ?? '—');
    const assign = el('div', 'toolbar');
    if (ctx.may('operator') && a.status !== 'cleared') {
      const input = el('input');
      input.placeholder = 'assignee';
      input.value = a.assignee ?? '';
      input.dataset['testid'] = `alarm-assignee-${a.id}`;
      const put = (assignee: string | null) => async (): Promise<void> =>
        update(await ctx.api<Alarm>(`/api/v1/alarms/${encodeURIComponent(a.id)}/assignee`, { method: 'PUT', body: { assignee } }));
      assign.append(
        input,
        button('Assign', () => put(input.value.trim() === '' ? null : input.value.trim())(), { testId: `alarm-assign-${a.id}`, role: 'operator' }),
      );
      if (a.assignee !== undefined) assign.append(button('Unassign', put(null), { testId: `alarm-unassign-${a.id}`, role: 'operator' }));
    }
    const list = el('ol', 'history');
    list.dataset['testid'] = 'alarm-history';
    for (const e of a.history ?? []) {
      const li = el('li', undefined, `${when(e.atMs)} ${e.what}${e.by === undefined ? '' : ` by ${e.by}`}${e.detail === undefined ? '' : `: ${e.detail}`}`);
      li.dataset['testid'] = `alarm-history-${e.what}`;
      list.append(li);
    }
    detail.style.display = '';
    detail.replaceChildren(el('h3', undefined, `${a.type} · ${a.source}`), close, facts.node, act(a), assign, el('h4', undefined, 'History'), list);
  }

  function open(id: string): void {
    selected = id;
    ctx
      .api<Alarm>(`/api/v1/alarms/${encodeURIComponent(id)}`)
      .then((a) => {
        if (selected === id) drawDetail(a);
      })
      .catch(fail);
  }

  load().catch(fail);
  if (selected !== undefined) open(selected);
  const stopLive = ctx.live('/api/v1/alarms/events', (data, event) => {
    if (event !== 'alarm' || typeof data !== 'object' || data === null || typeof (data as { id?: unknown }).id !== 'string') return;
    update(data as Alarm);
  });
  return () => {
    stopLive();
    table.destroy();
  };
}

export const page: Page = { path: '/alarms', title: 'Alarms', render };
