/**
 * The dashboard's rows of the tenant-isolation matrix (the others are http-rows.ts and so-rows.ts): alice's
 * credentials against bob's device on the series, event-list and live-telemetry routes (docs/operations.md,
 * "Dashboard"), and the dashboard's pages holding none of bob's data.
 */
import { bearer, call } from '@ferry/test-kit/http';
import { expectStatus, type Row, type Tenant } from './http-rows.ts';

const series = (t: Tenant): string => `/api/v1/series?device=${t.device}&event=tel`;

/** The status of GET /api/v1/live for `device`, without waiting for the stream to end. */
async function liveStatus(api: string, token: string, device: string): Promise<{ status: number; body: unknown }> {
  const abort = new AbortController();
  const r = await fetch(`${api}/api/v1/live?device=${device}`, { headers: bearer(token), signal: abort.signal });
  const body = r.headers.get('content-type')?.includes('json') === true ? await r.json() : undefined;
  abort.abort();
  return { status: r.status, body };
}

export const DASH_HTTP_ROWS: readonly Row[] = [
  {
    surface: 'dashboard',
    attempt: "read another owner's device series",
    refused: async (api, a, b) => expectStatus(await call(api, 'GET', series(b), a.admin), 404),
    own: async (api, a) => expectStatus(await call(api, 'GET', series(a), a.viewer), 200),
  },
  {
    surface: 'dashboard',
    attempt: "list another owner's device events",
    refused: async (api, a, b) => expectStatus(await call(api, 'GET', `/api/v1/series/events?device=${b.device}`, a.admin), 404),
    own: async (api, a) => expectStatus(await call(api, 'GET', `/api/v1/series/events?device=${a.device}`, a.viewer), 200),
  },
  {
    surface: 'dashboard',
    attempt: "follow another owner's device telemetry live",
    refused: async (api, a, b) => expectStatus(await liveStatus(api, a.admin, b.device), 404),
    own: async (api, a) => expectStatus(await liveStatus(api, a.viewer, a.device), 200),
  },
  {
    surface: 'dashboard',
    attempt: "find another owner's device in the dashboard's HTML",
    refused: async (api, a, b) => {
      const r = await fetch(`${api}/devices`, { headers: { ...bearer(a.admin), accept: 'text/html' } });
      const html = await r.text();
      return r.status !== 200 ? `answered ${r.status}` : html.includes(b.device) || html.includes(a.device) ? 'the HTML holds device data' : undefined;
    },
  },
];
