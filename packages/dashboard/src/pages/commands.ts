/**
 * @module The commands page (docs/operations.md "Dashboard", "Commands"): the caller's commands, newest first
 * (GET /api/v1/commands, by device and state), each with its timeline (queued -> sent -> delivered ->
 * acked, or rejected, expired, failed, with when each state was entered), the newest broadcasts with their
 * devices by state, refreshed every few seconds; an operator sends a command from the form (POST
 * /api/v1/commands).
 */
import type { Page, PageContext } from '../page.ts';
import { badge, button, el, when } from '../widgets/dom.ts';
import { virtualTable } from '../widgets/table.ts';
import { refreshing, statusLine } from './refresh.ts';

type Step = { state: string; at: number };
type Cmd = { id: string; device: string; state: string; priority: string; created_at: number; reason?: string; history: Step[] };
type Broadcast = { id: string; created_at: number; devices: number };
type BroadcastStatus = { counts: Record<string, number> };

const STATES = ['queued', 'sent', 'delivered', 'acked', 'rejected', 'expired', 'failed'];
const KIND: Record<string, string> = { acked: 'ok', delivered: 'info', sent: 'info', queued: 'muted', rejected: 'bad', expired: 'warn', failed: 'bad' };
/** Broadcasts shown (their states are read one request each). */
const BROADCASTS_SHOWN = 10;

/** A command's timeline: each state it entered, with the time, in order. */
export function timeline(c: Cmd): HTMLElement {
  const t = el('span', 'timeline');
  t.dataset['testid'] = `command-timeline-${c.id}`;
  c.history.forEach((s, i) => {
    if (i > 0) t.append(' → ');
    const b = badge(s.state, KIND[s.state] ?? 'muted');
    b.title = new Date(s.at).toISOString();
    t.append(b, ` ${when(s.at)}`);
  });
  return t;
}

function sendForm(ctx: PageContext, after: () => Promise<void>): HTMLElement {
  const form = el('form', 'toolbar');
  const device = Object.assign(el('input'), { placeholder: 'device id', required: true });
  device.dataset['testid'] = 'command-device';
  const body = Object.assign(el('input'), { placeholder: '{"setpoint": 21.5}', required: true, size: 32 });
  body.dataset['testid'] = 'command-json';
  const priority = el('select');
  priority.dataset['testid'] = 'command-priority';
  for (const p of ['normal', 'high', 'low']) priority.append(Object.assign(el('option', undefined, p), { value: p }));
  const result = el('span', 'muted');
  result.dataset['testid'] = 'command-result';
  const send = button(
    'Send command',
    async () => {
      let command: unknown;
      try {
        command = JSON.parse(body.value);
      } catch {
        throw new Error('the command is not JSON');
      }
      const r = await ctx.api<{ id: string; state: string }>('/api/v1/commands', {
        method: 'POST',
        body: { device: device.value.trim(), command, priority: priority.value },
      });
      result.textContent = `${r.id}: ${r.state}`;
      await after();
    },
    { testId: 'command-send', role: 'operator' },
  );
  form.addEventListener('submit', (e) => e.preventDefault());
  form.append(device, body, priority, send, result);
  return form;
}

export const page: Page = {
  path: '/commands',
  title: 'Commands',
  render(root, ctx) {
    const status = statusLine('commands-error');
    const params = new URLSearchParams(location.search);
    const filters = el('div', 'toolbar');
    const device = Object.assign(el('input'), { placeholder: 'all devices', value: params.get('device') ?? '' });
    device.dataset['testid'] = 'commands-filter-device';
    const state = el('select');
    state.dataset['testid'] = 'commands-filter-state';
    for (const s of ['', ...STATES]) state.append(Object.assign(el('option', undefined, s === '' ? 'any state' : s), { value: s }));
    state.value = params.get('state') ?? '';
    filters.append(el('label', undefined, 'Device '), device, el('label', undefined, 'State '), state);
    const list = el('div');
    const broadcasts = el('ul', 'broadcasts');
    broadcasts.dataset['testid'] = 'broadcasts';
    root.append(el('h2', undefined, 'Commands'));
    if (ctx.may('operator')) root.append(sendForm(ctx, () => load()));
    root.append(filters, status, list, el('h2', undefined, 'Broadcasts'), broadcasts);

    const load = async (): Promise<void> => {
      const q = new URLSearchParams({ limit: '500' });
      if (device.value.trim() !== '') q.set('device', device.value.trim());
      if (state.value !== '') q.set('state', state.value);
      const [{ commands }, b] = await Promise.all([
        ctx.api<{ commands: Cmd[] }>(`/api/v1/commands?${q}`),
        ctx.api<{ broadcasts: Broadcast[] }>(`/api/v1/broadcasts?limit=${BROADCASTS_SHOWN}`),
      ]);
      table.setRows(commands);
      const items = await Promise.all(
        b.broadcasts.map(async (x) => {
          const s = await ctx.api<BroadcastStatus>(`/api/v1/broadcasts/${encodeURIComponent(x.id)}`).catch(() => undefined);
          const li = el('li', undefined, `${when(x.created_at)} · ${x.id} · ${x.devices} devices `);
          li.dataset['testid'] = `broadcast-row-${x.id}`;
          for (const st of STATES) if ((s?.counts[st] ?? 0) > 0) li.append(badge(`${st} ${s!.counts[st]}`, KIND[st] ?? 'muted'), ' ');
          return li;
        }),
      );
      broadcasts.replaceChildren(...(items.length > 0 ? items : [el('li', 'muted', 'No broadcasts.')]));
    };
    const refilter = (): void => {
      const q = new URLSearchParams();
      if (device.value.trim() !== '') q.set('device', device.value.trim());
      if (state.value !== '') q.set('state', state.value);
      history.replaceState(null, '', `/commands${q.size > 0 ? `?${q}` : ''}`);
      void load().catch(() => undefined);
    };
    device.addEventListener('change', refilter);
    state.addEventListener('change', refilter);
    const table = virtualTable<Cmd>(list, {
      rowKey: (c) => c.id,
      rowTestId: (c) => `command-row-${c.id}`,
      rowHeight: 40,
      columns: [
        { key: 'id', title: 'Command', width: '12rem', cell: (c) => c.id },
        { key: 'device', title: 'Device', width: '8rem', cell: (c) => c.device },
        {
          key: 'state',
          title: 'State',
          width: '7rem',
          cell: (c) => Object.assign(badge(c.state, KIND[c.state] ?? 'muted'), { title: c.reason ?? '' }),
        },
        { key: 'timeline', title: 'Timeline', width: '4fr', cell: timeline },
        { key: 'priority', title: 'Priority', width: '5rem', cell: (c) => c.priority },
      ],
    });
    const stop = refreshing(status, load);
    return () => {
      stop();
      table.destroy();
    };
  },
};
