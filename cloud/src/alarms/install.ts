/**
 * @module Installing and uninstalling an alarm rule's job where the rule runs (docs/operations.md "Alarms"): in
 * the cloud's rules host, restored from its saved state when there is one, or on a gateway over its control
 * channel (install, then start). A job that cannot be installed is FERRY_ALARM_INSTALL naming why.
 */
import type { RulesHost } from '@ferry/rules-host';
import { AlarmError } from './errors.ts';

export interface InstallParts {
  readonly rules: RulesHost;
  readonly gatewayRequest: (gw: string, method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;
  readonly log: (m: string) => void;
}

/** Installs and starts the job of installation object `inst` on `runtime` (`cloud` or `gateway:<id>`); its job id. */
export async function installJob(p: InstallParts, runtime: string, inst: unknown, snapshot?: unknown): Promise<string> {
  const gw = /^gateway:(.+)$/.exec(runtime)?.[1];
  try {
    if (gw === undefined) {
      const engine = p.rules.engine;
      const info = engine.install(inst);
      try {
        if (snapshot !== undefined) engine.job(info.jobId).restore(snapshot);
      } catch (e) {
        p.log(`alarms: job ${info.jobId} starts afresh: its saved state does not fit: ${e instanceof Error ? e.message : String(e)}`);
      }
      engine.start(info.jobId);
      return info.jobId;
    }
    const made = await p.gatewayRequest(gw, 'POST', '/api/install', inst);
    const jobId = (made.body as { jobId?: unknown } | undefined)?.jobId;
    if (made.status >= 300 || typeof jobId !== 'string') throw new Error(`gateway ${gw} answered ${made.status} ${JSON.stringify(made.body)}`);
    const started = await p.gatewayRequest(gw, 'POST', '/api/start', { jobId });
    if (started.status >= 300) throw new Error(`gateway ${gw} did not start ${jobId}: ${started.status} ${JSON.stringify(started.body)}`);
    return jobId;
  } catch (e) {
    throw new AlarmError('FERRY_ALARM_INSTALL', e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/** Uninstalls a job of the cloud's rules host (stopped first: only a stopped job uninstalls). */
export function uninstallJob(rules: RulesHost, jobId: string): void {
  const engine = rules.engine;
  if (engine.status(jobId).jobInfo.jobStatus === 'RUNNING') engine.stop(jobId);
  engine.uninstall(jobId);
}
