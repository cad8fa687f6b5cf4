/**
 * @module `ferry status`: the health summary of a running cloud in a terminal (docs/operations.md, "ferry
 * status"): readiness and its checks, supervised components, devices online and offline, the latest
 * incidents, the latency probe (`GET /api/v1/health`), and the open alarms by severity (`GET /api/v1/alarms`);
 * both need a global viewer credential in FERRY_TOKEN; `--json` prints the health answer as it came, for
 * machines. Exit codes as every API command.
 */
import { Command } from 'commander';
import { ApiClient, print, withApi, type ApiFlags } from './api-client.ts';
import type { Io } from './io.ts';

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}
interface ComponentRow {
  readonly name: string;
  readonly ok: boolean;
  readonly since?: number;
  readonly attempts?: number;
  readonly message?: string;
}
interface IncidentRow {
  readonly at: number;
  readonly component: string;
  readonly kind: string;
  readonly attempt: number;
  readonly message: string;
}
interface Probe {
  readonly enabled: boolean;
  readonly sent?: number;
  readonly received?: number;
  readonly lost?: number;
  readonly lastMs?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly periodMs?: number;
}
export interface HealthSummary {
  readonly ready: boolean;
  readonly checks: readonly Check[];
  readonly components: readonly ComponentRow[];
  readonly devices: { readonly online: number; readonly offline: number; readonly offlineIds: readonly string[] };
  readonly incidents: readonly IncidentRow[];
  readonly probe: Probe;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`);

/** Open alarms: the active ones (not acknowledged) by severity, and how many are acknowledged. */
export interface AlarmCounts {
  readonly active: Readonly<Record<string, number>>;
  readonly acknowledged: number;
}

const SEVERITY_ORDER = ['critical', 'major', 'minor', 'warning', 'indeterminate'];

/** Counts open alarms from a `GET /api/v1/alarms` answer. */
export function countAlarms(alarms: readonly { readonly status: string; readonly severity: string }[]): AlarmCounts {
  const active: Record<string, number> = {};
  for (const a of alarms) if (a.status === 'active') active[a.severity] = (active[a.severity] ?? 0) + 1;
  return { active, acknowledged: alarms.filter((a) => a.status === 'acknowledged').length };
}

/** The summary as lines for a terminal (no colours: it goes to logs and pipes too). */
export function renderStatus(base: string, h: HealthSummary, alarms?: AlarmCounts): string {
  const out: string[] = [`ferry cloud ${base}: ${h.ready ? 'READY' : 'NOT READY'}`];
  out.push(`checks      ${h.checks.map((c) => `${c.ok ? '[+]' : '[-]'}${c.name}`).join('  ')}`);
  for (const c of h.checks.filter((x) => !x.ok)) out.push(`            ${c.name}: ${c.detail ?? 'failed'}`);
  const failing = h.components.filter((c) => !c.ok);
  out.push(`components  ${h.components.length} supervised, ${failing.length} failing`);
  for (const c of failing)
    out.push(`            ${c.name}: failing${c.since !== undefined ? ` since ${iso(c.since)}` : ''}, ${c.attempts ?? 0} restart(s): ${c.message ?? ''}`);
  const off = h.devices.offlineIds;
  out.push(
    `devices     ${h.devices.online} online, ${h.devices.offline} offline${off.length > 0 ? ` (${off.join(', ')}${h.devices.offline > off.length ? ', ...' : ''})` : ''}`,
  );
  if (alarms !== undefined) {
    const by = SEVERITY_ORDER.filter((s) => (alarms.active[s] ?? 0) > 0).map((s) => `${alarms.active[s]} ${s}`);
    const total = Object.values(alarms.active).reduce((n, x) => n + x, 0);
    out.push(`alarms      ${total === 0 ? 'none active' : `${total} active (${by.join(', ')})`}, ${alarms.acknowledged} acknowledged`);
  }
  out.push(`incidents   ${h.incidents.length === 0 ? 'none' : `the latest ${h.incidents.length}`}`);
  for (const i of h.incidents) out.push(`            ${iso(i.at)}  ${i.component}  ${i.kind}${i.attempt > 0 ? ` #${i.attempt}` : ''}  ${i.message}`);
  const p = h.probe;
  out.push(
    p.enabled
      ? `probe       p50 ${ms(p.p50Ms)}, p99 ${ms(p.p99Ms)}, last ${ms(p.lastMs)}; ${p.sent ?? 0} sent, ${p.received ?? 0} back, ${p.lost ?? 0} lost (every ${(p.periodMs ?? 0) / 1000} s)`
      : 'probe       off (ferry cloud start --probe <seconds>)',
  );
  return `${out.join('\n')}\n`;
}

export function statusCommand(io: Io, setCode: (c: number) => void): Command {
  return withApi(
    new Command('status')
      .description("a running cloud's health: readiness, components, devices online and offline, incidents, probe latency (FERRY_TOKEN: a global viewer)")
      .option('--json', 'print the summary as JSON'),
  ).action(async (o: ApiFlags & { json?: boolean }) => {
    const client = ApiClient.of(io, o, 'a global viewer credential (an API token of no owner)');
    const a = await client.request('GET', '/api/v1/health');
    if (!a.ok || o.json === true) return print(io, setCode, a);
    // A cloud without the alarm routes (or a credential that may not list them) shows no alarms line.
    const listed: { status: string; severity: string }[] = [];
    for (const status of ['active', 'acknowledged']) {
      const r = await client.request('GET', `/api/v1/alarms?status=${status}&limit=1000`);
      if (!r.ok) return io.out(renderStatus(client.base, a.body as HealthSummary));
      listed.push(...((r.body as { alarms?: { status: string; severity: string }[] }).alarms ?? []));
    }
    io.out(renderStatus(client.base, a.body as HealthSummary, countAlarms(listed)));
  });
}
