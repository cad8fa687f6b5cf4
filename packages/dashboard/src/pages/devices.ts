/**
 * @module The devices page (/devices): one row per device of the caller (a global viewer: every owner's),
 * from GET /api/devices and GET /api/v1/health/devices, refreshed every few seconds: id, owner, kind, status
 * (online, offline, never seen), last seen, sequence gaps and bad signatures. A gateway's sensors appear as
 * `<gateway>/<sensor>`. A click opens the device's streams. The table is virtualised: 10 000 rows scroll.
 */
import type { Page } from '../page.ts';
import { virtualTable } from '../widgets/table.ts';
import { badge, el, when } from '../widgets/dom.ts';

interface DeviceInfo {
  readonly id: string;
  readonly owner?: string | null;
  readonly kind?: string | null;
  readonly gateway?: string | null;
}
interface DeviceHealth {
  readonly id: string;
  readonly owner?: string;
  readonly online: boolean;
  readonly lastSeen?: number;
  readonly gaps: number;
  readonly badSignatures: number;
  readonly messages: number;
}
export interface DeviceRow {
  readonly id: string;
  readonly owner: string;
  readonly kind: string;
  readonly status: 'online' | 'offline' | 'unseen';
  readonly lastSeen?: number;
  readonly gaps: number;
  readonly badSignatures: number;
}

const REFRESH_MS = 5000;

/** Registry and liveness joined by id; devices the liveness tracks beyond the registry (sensors) included. */
export function joinRows(devices: readonly DeviceInfo[], health: readonly DeviceHealth[]): DeviceRow[] {
  const live = new Map(health.map((h) => [h.id, h]));
  const row = (id: string, owner: string | undefined, kind: string, h: DeviceHealth | undefined): DeviceRow => ({
    id,
    owner: owner ?? '—',
    kind,
    status: h === undefined || h.lastSeen === undefined ? (h?.online === true ? 'online' : 'unseen') : h.online ? 'online' : 'offline',
    ...(h?.lastSeen !== undefined && { lastSeen: h.lastSeen }),
    gaps: h?.gaps ?? 0,
    badSignatures: h?.badSignatures ?? 0,
  });
  const rows = devices.map((d) => row(d.id, d.owner ?? undefined, d.kind ?? 'device', live.get(d.id)));
  const known = new Set(devices.map((d) => d.id));
  // A gateway's sensors (`<gateway>/<sensor>`); a removed device's liveness entry is not listed.
  for (const h of health) if (!known.has(h.id) && h.id.includes('/')) rows.push(row(h.id, h.owner, 'sensor', h));
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

const STATUS_KIND = { online: 'ok', offline: 'bad', unseen: 'muted' } as const;

export const page: Page = {
  path: '/devices',
  title: 'Devices',
  render(root, ctx) {
    const head = el('div', 'toolbar');
    const title = el('h2', undefined, 'Devices');
    const filter = el('input');
    filter.placeholder = 'Filter by id or owner';
    filter.dataset['testid'] = 'devices-filter';
    const count = el('span', 'muted');
    count.dataset['testid'] = 'devices-count';
    const error = el('span', 'error');
    error.dataset['testid'] = 'devices-error';
    head.append(filter, count, error);
    const body = el('div');
    root.replaceChildren(title, head, body);
    const table = virtualTable<DeviceRow>(body, {
      columns: [
        { key: 'id', title: 'Device', width: '2fr', cell: (r) => r.id },
        { key: 'owner', title: 'Owner', width: '1fr', cell: (r) => r.owner },
        { key: 'kind', title: 'Kind', width: '6rem', cell: (r) => r.kind },
        { key: 'status', title: 'Status', width: '6rem', cell: (r) => badge(r.status, STATUS_KIND[r.status]) },
        { key: 'lastSeen', title: 'Last seen', width: '1.3fr', cell: (r) => when(r.lastSeen) },
        { key: 'gaps', title: 'Gaps', width: '5rem', cell: (r) => (r.gaps > 0 ? badge(String(r.gaps), 'warn') : '0') },
        { key: 'bad', title: 'Bad signatures', width: '8.5rem', cell: (r) => (r.badSignatures > 0 ? badge(String(r.badSignatures), 'bad') : '0') },
      ],
      rowKey: (r) => r.id,
      rowTestId: (r) => `device-row-${r.id}`,
      onRow: (r) => ctx.navigate(`/streams?device=${encodeURIComponent(r.id)}`),
    });
    let all: DeviceRow[] = [];
    const show = (): void => {
      const f = filter.value.trim().toLowerCase();
      const rows = f === '' ? all : all.filter((r) => r.id.toLowerCase().includes(f) || r.owner.toLowerCase().includes(f));
      count.textContent = `${rows.length} of ${all.length}`;
      table.setRows(rows);
    };
    filter.addEventListener('input', show);
    let stopped = false;
    const load = async (): Promise<void> => {
      try {
        const [devices, health] = await Promise.all([
          ctx.api<DeviceInfo[]>('/api/devices'),
          ctx.api<DeviceHealth[]>('/api/v1/health/devices?limit=10000').catch(() => [] as DeviceHealth[]),
        ]);
        if (stopped) return;
        all = joinRows(devices, health);
        error.textContent = '';
        show();
      } catch (e) {
        error.textContent = e instanceof Error ? e.message : String(e);
      }
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
      table.destroy();
    };
  },
};
