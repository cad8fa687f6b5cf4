/**
 * @module The cloud's web dashboard (docs/operations.md, "Dashboard"): its data routes (routes.ts) and the
 * @ferry/dashboard/serve plugin with the cloud's pages, as one extension of the HTTP API (api/server.ts).
 */
import { PAGE_PATHS } from '@ferry/dashboard/page';
import { dashboard } from '@ferry/dashboard/serve';
import type { ApiExtension } from '../api/server.ts';
import { DASHBOARD_OPENAPI } from './openapi.ts';
import { type DashboardParts, dashboardRoutes } from './routes.ts';

export function cloudDashboard(parts: DashboardParts): ApiExtension {
  return {
    openApi: DASHBOARD_OPENAPI,
    async register(app) {
      dashboardRoutes(app, parts);
      await app.register(dashboard, { kind: 'cloud', pages: PAGE_PATHS });
    },
  };
}
