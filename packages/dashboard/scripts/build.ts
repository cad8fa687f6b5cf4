/** @module Builds the dashboard bundle (src/build.ts) into packages/dashboard/dist/. Run: the root `prepare` script. */
import { ASSETS_DIR, buildDashboard, relativeToPackage } from '../src/build.ts';

const t0 = performance.now();
const m = await buildDashboard();
console.log(`dashboard: ${relativeToPackage(ASSETS_DIR)}/${m.js}, ${m.css} (${Math.round(performance.now() - t0)} ms)`);
