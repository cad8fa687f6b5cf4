/**
 * The composite-stream rows of the tenant-isolation matrix (its HTTP rows are http-rows.ts): alice's
 * credentials against bob's service objects, their streams, grants, moves, callbacks and telemetry mappings.
 */
import { call } from '@ferry/test-kit/http';
import { expectStatus, ids, type Row, SO_DOC, type Tenant } from './http-rows.ts';

const subs = (t: Tenant): string => `/api/v1/sos/${t.so}/streams/t/subscriptions`;
const maps = (t: Tenant): string => `/api/v1/sos/${t.so}/streams/t/mappings`;
/** A loopback callback nothing listens on: the rows register callbacks, none is delivered. */
const HOOK = { url: 'http://127.0.0.1:9/hook', secret: 'isolation-callback-secret' };

/** Rows on service objects (each tenant's object `so`, stream `t`): the objects, their streams and grants, moves, callbacks and telemetry mappings. */
export const SO_HTTP_ROWS: readonly Row[] = [
  {
    surface: 'composite streams',
    attempt: "read, replace or delete another owner's service object",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'GET', `/api/v1/sos/${b.so}`, a.admin), 404) ??
      expectStatus(await call(api, 'PUT', `/api/v1/sos/${b.so}`, a.admin, SO_DOC), 404) ??
      expectStatus(await call(api, 'DELETE', `/api/v1/sos/${b.so}`, a.admin), 404),
    own: async (api, a) =>
      expectStatus(await call(api, 'GET', `/api/v1/sos/${a.so}`, a.viewer), 200) ??
      expectStatus(await call(api, 'PUT', `/api/v1/sos/${a.so}`, a.admin, SO_DOC), 200),
  },
  {
    surface: 'composite streams',
    attempt: "feed another owner's stream, or create an object in another owner's name",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'PUT', `/api/v1/sos/${b.so}/streams/t`, a.admin, { channels: { a: { 'current-value': 2 } }, lastUpdate: 2 }), 404) ??
      expectStatus(await call(api, 'POST', `/api/v1/sos?owner=${b.id}`, a.admin, SO_DOC), 403),
    own: async (api, a) =>
      expectStatus(await call(api, 'PUT', `/api/v1/sos/${a.so}/streams/t`, a.admin, { channels: { a: { 'current-value': 2 } }, lastUpdate: 2 }), 200),
  },
  {
    surface: 'composite streams',
    attempt: "read another owner's stream (latest, history, explain, events) without a grant",
    refused: async (api, a, b) => {
      for (const p of ['/lastUpdate', '', '/explain', '/events']) {
        const r = expectStatus(await call(api, 'GET', `/api/v1/sos/${b.so}/streams/t${p}`, a.admin), 404);
        if (r !== undefined) return `${p}: ${r}`;
      }
      return undefined;
    },
    own: async (api, a) =>
      expectStatus(await call(api, 'GET', `/api/v1/sos/${a.so}/streams/t/lastUpdate`, a.viewer), 200) ??
      expectStatus(await call(api, 'GET', `/api/v1/sos/${a.so}/streams/t`, a.viewer), 200) ??
      expectStatus(await call(api, 'GET', `/api/v1/sos/${a.so}/streams/t/explain`, a.viewer), 200),
  },
  {
    surface: 'composite streams',
    attempt: "list, make or revoke grants on another owner's object, or compose over its stream without a grant",
    refused: async (api, a, b) => {
      const grant = { stream: 't', to: { owner: a.id } };
      const reader = {
        groups: { g: { soIds: [b.so], stream: 't' } },
        streams: { G: { channels: { a: { type: 'number', 'current-value': '{$g.channels.a.current-value}' } } } },
      };
      return (
        expectStatus(await call(api, 'GET', `/api/v1/sos/${b.so}/grants`, a.admin), 404) ??
        expectStatus(await call(api, 'POST', `/api/v1/sos/${b.so}/grants`, a.admin, grant), 404) ??
        expectStatus(await call(api, 'DELETE', `/api/v1/sos/${b.so}/grants`, a.admin, grant), 404) ??
        expectStatus(await call(api, 'POST', '/api/v1/sos', a.admin, reader), 403)
      );
    },
    own: async (api, a, b) =>
      expectStatus(await call(api, 'POST', `/api/v1/sos/${a.so}/grants`, a.admin, { stream: 't', to: { owner: b.id } }), 201) ??
      expectStatus(await call(api, 'GET', `/api/v1/sos/${a.so}/grants`, a.viewer), 200) ??
      expectStatus(await call(api, 'DELETE', `/api/v1/sos/${a.so}/grants`, a.admin, { stream: 't', to: { owner: b.id } }), 204),
  },
  {
    surface: 'composite streams',
    attempt: "move another owner's service object (to the cloud or to a gateway)",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'POST', `/api/v1/sos/${b.so}/move`, a.admin, { to: 'cloud' }), 404) ??
      expectStatus(await call(api, 'POST', `/api/v1/sos/${b.so}/move`, a.admin, { to: 'gateway:nowhere' }), 404),
    // Moving one's own object where it already is answers what is there: nothing moves, nothing is refused.
    own: async (api, a) => {
      const r = await call(api, 'POST', `/api/v1/sos/${a.so}/move`, a.admin, { to: 'cloud' });
      return r.status === 404 || r.status === 401 || r.status === 403 ? `own object: ${r.status}` : undefined;
    },
  },
  {
    surface: 'stream subscriptions',
    attempt: "register a callback on another owner's stream, or as a viewer",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'POST', subs(b), a.admin, HOOK), 404) ?? expectStatus(await call(api, 'POST', subs(a), a.viewer, HOOK), 403),
    own: async (api, a) => expectStatus(await call(api, 'POST', subs(a), a.admin, HOOK), 201),
  },
  {
    surface: 'stream subscriptions',
    attempt: "list or delete another owner's subscription",
    refused: async (api, a, b) => {
      const id = ((await call(api, 'POST', subs(b), b.admin, HOOK)).body as { id?: string }).id;
      if (id === undefined) return "bob's own subscription was refused";
      if (ids(await call(api, 'GET', subs(b), a.admin)).includes(id)) return "bob's subscription listed";
      return expectStatus(await call(api, 'DELETE', `${subs(b)}/${id}`, a.admin), 404);
    },
    own: async (api, a) => {
      const made = await call(api, 'POST', subs(a), a.admin, HOOK);
      const id = (made.body as { id: string }).id;
      return ids(await call(api, 'GET', subs(a), a.viewer)).includes(id)
        ? expectStatus(await call(api, 'DELETE', `${subs(a)}/${id}`, a.admin), 204)
        : 'own subscription missing';
    },
  },
  {
    surface: 'telemetry mappings',
    attempt: "map one's device into another owner's stream, or another owner's device into one's own",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'POST', maps(b), a.admin, { device: a.device, ev: 'tel', channels: { a: 't' } }), 404) ??
      expectStatus(await call(api, 'POST', maps(a), a.admin, { device: b.device, ev: 'tel', channels: { a: 't' } }), 400),
    own: async (api, a) => expectStatus(await call(api, 'POST', maps(a), a.admin, { device: a.device, ev: 'tel', channels: { a: 't' } }), 201),
  },
];
