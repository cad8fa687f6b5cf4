/**
 * The rows of the dashboard pages' list routes in the tenant-isolation matrix (the others are http-rows.ts,
 * so-rows.ts and dash-rows.ts): alice's credentials list only alice's composite streams, functions, commands
 * and broadcasts, whatever `?owner=` or `?device=` names, and cannot move the cloud's rules.
 */
import { call } from '@ferry/test-kit/http';
import { expectStatus, KV_HASH, type Row, type Tenant } from './http-rows.ts';

type Listed = { id?: string; hash?: string; calls?: number; device?: string };
const list = async (api: string, path: string, token: string, field: string): Promise<Listed[]> =>
  ((await call(api, 'GET', path, token)).body as Record<string, Listed[]>)[field] ?? [];
const kvCalls = async (api: string, t: Tenant, path = '/api/v1/functions'): Promise<number> =>
  (await list(api, path, t.viewer, 'functions')).find((f) => f.hash === KV_HASH)?.calls ?? 0;
const callKv = (api: string, t: Tenant) => call(api, 'POST', '/api/functions/call', t.priv, { hash: KV_HASH, export: 'add', args: [1, 2], namespace: 'home' });

export const DASH_LIST_ROWS: readonly Row[] = [
  {
    surface: 'dashboard lists',
    attempt: "list another owner's service objects (also naming the owner)",
    refused: async (api, a, b) => {
      for (const path of ['/api/v1/sos', `/api/v1/sos?owner=${b.id}`])
        if ((await list(api, path, a.viewer, 'sos')).some((s) => s.id === b.so)) return `bob's object listed by ${path}`;
      return undefined;
    },
    own: async (api, a) => ((await list(api, '/api/v1/sos', a.viewer, 'sos')).some((s) => s.id === a.so) ? undefined : 'own object missing'),
  },
  {
    surface: 'dashboard lists',
    attempt: "see another owner's function calls (also naming the owner)",
    refused: async (api, a, b) => {
      const before = await kvCalls(api, a);
      const called = expectStatus(await callKv(api, b), 200);
      if (called !== undefined) return `bob's call: ${called}`;
      const after = [await kvCalls(api, a), await kvCalls(api, a, `/api/v1/functions?owner=${b.id}`)];
      return after.every((n) => n === before) ? undefined : `alice's counts moved with bob's call: ${before} -> ${after.join(', ')}`;
    },
    own: async (api, a) => {
      const before = await kvCalls(api, a);
      return expectStatus(await callKv(api, a), 200) ?? ((await kvCalls(api, a)) === before + 1 ? undefined : 'own call not counted');
    },
  },
  {
    surface: 'dashboard lists',
    attempt: "list another owner's commands and broadcasts, or filter by another owner's device",
    refused: async (api, a, b) => {
      const cmd = ((await call(api, 'POST', '/api/v1/commands', b.admin, { device: b.device, command: { n: 1 } })).body as { id: string }).id;
      const bc = ((await call(api, 'POST', '/api/v1/broadcasts', b.admin, { target: { all: true }, command: { n: 1 } })).body as { id: string }).id;
      if ((await list(api, `/api/v1/commands?owner=${b.id}&limit=1000`, a.viewer, 'commands')).some((c) => c.id === cmd || c.device?.startsWith(`${b.id}-`)))
        return "bob's command listed";
      if ((await list(api, `/api/v1/broadcasts?owner=${b.id}`, a.viewer, 'broadcasts')).some((x) => x.id === bc)) return "bob's broadcast listed";
      return expectStatus(await call(api, 'GET', `/api/v1/commands?device=${b.device}`, a.viewer), 404);
    },
    own: async (api, a) => {
      const cmd = ((await call(api, 'POST', '/api/v1/commands', a.admin, { device: a.device, command: { n: 1 } })).body as { id: string }).id;
      const bc = ((await call(api, 'POST', '/api/v1/broadcasts', a.admin, { target: { all: true }, command: { n: 1 } })).body as { id: string }).id;
      if (!(await list(api, `/api/v1/commands?device=${a.device}`, a.viewer, 'commands')).some((c) => c.id === cmd)) return 'own command missing';
      return (await list(api, '/api/v1/broadcasts', a.viewer, 'broadcasts')).some((x) => x.id === bc) ? undefined : 'own broadcast missing';
    },
  },
  {
    surface: 'dashboard lists',
    attempt: "an owner's credential moves a rule back from a gateway (the cloud's rules are the admin's)",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'POST', '/api/v1/rules/return', a.admin, { gateway: b.gateway, jobId: 'x' }), 403) ??
      expectStatus(await call(api, 'POST', '/api/v1/rules/return', a.admin, { gateway: a.gateway, jobId: 'x' }), 403),
  },
];
