/**
 * @module RuleEngine: the jobs of one runtime by jobId, behind the operations of the rule REST API
 * (install, start, stop, uninstall, move), plus input fan-out. Pure: hosts add MQTT and HTTP.
 *
 * Outputs are returned, not re-fed: pipelines compose through broker topics, so a host publishes each
 * output and the broker brings it back to whichever jobs (here or elsewhere) subscribe to it.
 */
import type { Clock } from '@ferry/base';
import { RuleError } from './core/errors.ts';
import { loopThrough } from './feedback.ts';
import { withDefaults, type RuleLimits } from './core/limits.ts';
import { parseInstallation, parseRelocation } from './objects.ts';
import type { InstallationObject, JobInfo, RelocationObject } from './objects.ts';
import { RuleJob } from './runtime/job.ts';
import type { JobStatus, OutputRecord } from './runtime/job.ts';

export type EngineOptions = {
  /** This runtime's name; installation headers.runtime and relocation target_runtime must equal it. */
  readonly runtime: string;
  readonly clock: Pick<Clock, 'now'>;
  /** Per-job consecutive error limit (see RuleJob). */
  readonly errorLimit?: number;
  /** Per-job number of remembered input ids (see RuleJob). */
  readonly dedupeWindow?: number;
  /** Names a new job; default `<runtime>-<n>`. Must not return an installed jobId. */
  readonly newJobId?: (installation: InstallationObject) => string;
  /** Resource caps for every job, and the most jobs this engine holds (defaults: RULE_LIMITS). */
  readonly limits?: Partial<RuleLimits>;
};

export type JobReport = { readonly jobInfo: JobInfo; readonly targetResource: string } & Omit<JobStatus, 'state'>;

type Entry = { readonly jobId: string; readonly installation: InstallationObject; readonly job: RuleJob };

export class RuleEngine {
  readonly runtime: string;
  readonly #options: EngineOptions;
  readonly #jobs = new Map<string, Entry>();
  #counter = 0;

  constructor(options: EngineOptions) {
    if (typeof options.runtime !== 'string' || options.runtime.length === 0) {
      throw new RuleError('FERRY_RULES_FIELD_VALUE', 'runtime must be a non-empty string', { path: 'runtime' });
    }
    this.runtime = options.runtime;
    this.#options = options;
  }

  /** Validates and installs a rule (state INSTALLED); returns its jobinfo. */
  install(installation: unknown): JobInfo {
    const parsed = parseInstallation(installation);
    if (parsed.installation.headers.runtime !== this.runtime) {
      throw new RuleError(
        'FERRY_RULES_WRONG_RUNTIME',
        `headers.runtime ${JSON.stringify(parsed.installation.headers.runtime)} is not this runtime (${this.runtime})`,
        {
          path: 'headers.runtime',
        },
      );
    }
    this.#checkRoom(parsed.plan);
    const jobId = this.#newJobId(parsed.installation);
    return this.#add(jobId, parsed.installation, this.#createJob(parsed.plan, jobId));
  }

  start(jobId: string): JobInfo {
    this.#get(jobId).job.start();
    return this.#info(this.#get(jobId));
  }

  stop(jobId: string): JobInfo {
    this.#get(jobId).job.stop();
    return this.#info(this.#get(jobId));
  }

  /** Removes a stopped or never-started job; the returned jobinfo says UNINSTALLED. */
  uninstall(jobId: string): JobInfo {
    const entry = this.#get(jobId);
    entry.job.uninstall();
    this.#jobs.delete(jobId);
    return this.#info(entry);
  }

  list(): JobInfo[] {
    return [...this.#jobs.values()].map((entry) => this.#info(entry));
  }

  status(jobId: string): JobReport {
    const entry = this.#get(jobId);
    const { state: _state, ...status } = entry.job.status();
    return { jobInfo: this.#info(entry), targetResource: entry.installation.headers.targetResource, ...status };
  }

  installation(jobId: string): InstallationObject {
    return JSON.parse(JSON.stringify(this.#get(jobId).installation)) as InstallationObject;
  }

  /** The job itself, for hosts that drive one job directly. */
  job(jobId: string): RuleJob {
    return this.#get(jobId).job;
  }

  /** Offers one input to every job subscribed to `topic`, in install order; never throws. */
  push(topic: string, record: unknown, timestampMs: number, inputId?: string): OutputRecord[] {
    const outputs: OutputRecord[] = [];
    for (const entry of this.#jobs.values()) {
      if (entry.job.accepts(topic)) outputs.push(...entry.job.push(topic, record, timestampMs, inputId));
    }
    return outputs;
  }

  /** Moves every job's time to `nowMs`, closing due time windows. */
  tick(nowMs: number): OutputRecord[] {
    return [...this.#jobs.values()].flatMap((entry) => entry.job.tick(nowMs));
  }

  /**
   * Stop + snapshot + uninstall, as one step. The relocation carries the installation and the snapshot;
   * jobInfo.jobStatus is the status before the move, so the target starts the job only if it was running.
   * If the target refuses it, moveIn the same relocation back here (with target_runtime set to this runtime).
   */
  moveOut(jobId: string, targetRuntime: string, targetResource?: string): RelocationObject {
    const entry = this.#get(jobId);
    if (targetRuntime.length === 0) throw new RuleError('FERRY_RULES_FIELD_VALUE', 'target_runtime must not be empty', { path: 'target_runtime' });
    const before = this.#info(entry);
    if (entry.job.state === 'RUNNING') entry.job.stop();
    const snapshot = entry.job.snapshot();
    entry.job.uninstall();
    this.#jobs.delete(jobId);
    return {
      target_runtime: targetRuntime,
      targetResource: targetResource ?? entry.installation.headers.targetResource,
      jobInfo: before,
      installation: entry.installation,
      snapshot,
    };
  }

  /** Install + restore + (start if it was running), all or nothing: on any error nothing is installed. */
  moveIn(relocation: unknown): JobInfo {
    const parsed = parseRelocation(relocation);
    if (parsed.target_runtime !== this.runtime) {
      throw new RuleError('FERRY_RULES_WRONG_RUNTIME', `target_runtime ${JSON.stringify(parsed.target_runtime)} is not this runtime (${this.runtime})`, {
        path: 'target_runtime',
      });
    }
    const { jobInfo, installation } = parsed;
    if (installation === undefined) {
      throw new RuleError('FERRY_RULES_FIELD_REQUIRED', 'installation is required to move a job in (the engine keeps no config files)', {
        path: 'installation',
      });
    }
    if (jobInfo.jobStatus === 'UNINSTALLED')
      throw new RuleError('FERRY_RULES_FIELD_VALUE', 'jobInfo.jobStatus must not be UNINSTALLED', { path: 'jobInfo.jobStatus' });
    if (jobInfo.jobType !== installation.headers.jobType) {
      throw new RuleError('FERRY_RULES_FIELD_VALUE', `jobInfo.jobType must equal installation.headers.jobType (${installation.headers.jobType})`, {
        path: 'jobInfo.jobType',
      });
    }
    if (this.#jobs.has(jobInfo.jobId))
      throw new RuleError('FERRY_RULES_JOB_EXISTS', `job ${jobInfo.jobId} is already installed here`, { path: 'jobInfo.jobId' });
    const moved: InstallationObject = { ...installation, headers: { ...installation.headers, runtime: this.runtime, targetResource: parsed.targetResource } };
    const { plan } = parseInstallation(moved, 'installation');
    this.#checkRoom(plan);
    const job = this.#createJob(plan, jobInfo.jobId);
    if (parsed.snapshot !== undefined) job.restore(parsed.snapshot);
    if (jobInfo.jobStatus === 'RUNNING') job.start();
    return this.#add(jobInfo.jobId, moved, job);
  }

  /** Refuses a job past maxJobs, or one whose output would come back to its own input (directly or via other jobs). */
  #checkRoom(plan: RuleJob['plan']): void {
    const { maxJobs } = withDefaults(this.#options.limits);
    if (this.#jobs.size >= maxJobs) throw new RuleError('FERRY_RULES_TOO_MANY_JOBS', `this engine holds ${this.#jobs.size} jobs, its maximum (maxJobs)`);
    const loop = loopThrough(
      plan,
      [...this.#jobs.values()].map((e) => ({ jobId: e.jobId, plan: e.job.plan })),
    );
    if (loop !== null) {
      const via = loop.length === 0 ? 'its own input' : `its own input through ${loop.join(' -> ')}`;
      throw new RuleError('FERRY_RULES_FEEDS_ITSELF', `output topic ${plan.sink.topic} would feed ${via}: each output would come back as an input`, {
        path: 'jobConfig.connectors.output',
      });
    }
  }

  #createJob(plan: RuleJob['plan'], jobId: string): RuleJob {
    return new RuleJob(plan, {
      clock: this.#options.clock,
      jobId,
      ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
      ...(this.#options.errorLimit === undefined ? {} : { errorLimit: this.#options.errorLimit }),
      ...(this.#options.dedupeWindow === undefined ? {} : { dedupeWindow: this.#options.dedupeWindow }),
    });
  }

  #newJobId(installation: InstallationObject): string {
    if (this.#options.newJobId !== undefined) {
      const jobId = this.#options.newJobId(installation);
      if (typeof jobId !== 'string' || jobId.length === 0)
        throw new RuleError('FERRY_RULES_FIELD_VALUE', 'newJobId must return a non-empty string', { path: 'jobId' });
      if (this.#jobs.has(jobId)) throw new RuleError('FERRY_RULES_JOB_EXISTS', `job ${jobId} is already installed here`, { path: 'jobId' });
      return jobId;
    }
    let jobId: string;
    do {
      this.#counter += 1;
      jobId = `${this.runtime}-${this.#counter}`;
    } while (this.#jobs.has(jobId));
    return jobId;
  }

  #add(jobId: string, installation: InstallationObject, job: RuleJob): JobInfo {
    const entry = { jobId, installation, job };
    this.#jobs.set(jobId, entry);
    return this.#info(entry);
  }

  #get(jobId: string): Entry {
    const entry = this.#jobs.get(jobId);
    if (entry === undefined) throw new RuleError('FERRY_RULES_JOB_NOT_FOUND', `no job ${JSON.stringify(jobId)} on runtime ${this.runtime}`, { path: 'jobId' });
    return entry;
  }

  #info(entry: Entry): JobInfo {
    return {
      runtime: this.runtime,
      jobId: entry.jobId,
      jobType: entry.installation.headers.jobType,
      jobStatus: entry.job.state,
      configFileName: `${entry.jobId}.json`,
    };
  }
}
