/**
 * @module Alarm rules (docs/operations.md "Alarms"): create (check, compile, install the job in the cloud's rules
 * host or on the owner's gateway, persist), list, delete, reinstall the cloud's at start; the metric sampler's
 * feed of metric rules (and of the built-in `probe-latency` rule); and the intake of alarm transitions from
 * rule outputs: the cloud's own jobs (`<p>/alarms/<owner or _>/<rule id>`) and a gateway's relayed outputs,
 * taken only for a rule of that gateway, installed for the gateway's owner.
 */
import { randomBytes } from 'node:crypto';
import { TIME_LEEWAY_S } from '@ferry/message';
import type { AlarmTransition } from '@ferry/rules';
import type { Registry } from 'prom-client';
import { type CompileContext, checkRule, feedsOnDevice, feedsOnStream, installation, metricTopic, outputTopic, sourceName, telemetryTopic } from './compile.ts';
import { AlarmError } from './errors.ts';
import { type InstallParts, installJob, uninstallJob } from './install.ts';
import { transitionKey } from './lifecycle.ts';
import { metricProblem, sampleMetric } from './sampler.ts';
import { asTransition, type AlarmService } from './service.ts';
import { ALARM_LIMITS, type AlarmRule, type Scope, type StoredAlarm } from './types.ts';

/** Its job's host, a gateway's control channel and the log (InstallParts), and what rules are checked against. */
export interface AlarmRulesParts extends InstallParts {
  readonly prefix: string;
  readonly service: AlarmService;
  readonly registry: Registry;
  readonly device: CompileContext['device'];
  readonly devicesOf: CompileContext['devicesOf'];
  readonly mayReadStream: CompileContext['mayReadStream'];
  /**
   * Whether this process runs the cloud's alarm jobs (default: always). Scale-out: only the alarm leader does
   * (scale-out.ts); the others check a new rule by installing it, then leave its job to the leader.
   */
  readonly runsCloudJobs?: () => boolean;
}

/** The latency probe's built-in alarm (docs/operations.md "Latency probe"). */
export interface ProbeAlarm {
  readonly thresholdMs: number;
  readonly periodMs: number;
  /** The probe's last latency and when it came back, if any yet. */
  readonly last: () => { readonly ms: number; readonly at: number } | undefined;
  /** The alarm's source (default `probe`); scale-out names the worker: each process probes its own latency. */
  readonly source?: string;
}

export const PROBE_RULE = 'probe-latency';
const PROBE_METRIC = 'probe.latency_ms';
/** Transitions of one rule that may wait for the alarm store (docs/limits.md); past it a new one is dropped and logged. */
const MAX_UNAPPLIED = 1000;
const newRuleId = (): string => `ar-${randomBytes(9).toString('base64url')}`;

export class AlarmRules {
  readonly #p: AlarmRulesParts;
  /** Rules by id: those of this process, and those other workers made, read once (scale-out). */
  readonly #cache = new Map<string, AlarmRule>();
  #probe: { readonly alarm: ProbeAlarm; lastAt: number | undefined } | undefined;
  /** The job state last saved per rule, as JSON. */
  readonly #saved = new Map<string, string>();
  /** Each rule's drain of its unapplied transitions under way (`#drain`). */
  readonly #draining = new Map<string, Promise<void>>();

  constructor(p: AlarmRulesParts) {
    this.#p = p;
  }

  readonly #isGateway = (id: string): boolean => this.#p.device(id)?.kind === 'gateway';

  async rule(id: string): Promise<AlarmRule | undefined> {
    const hit = this.#cache.get(id);
    if (hit !== undefined) return hit;
    const r = await this.#p.service.store.getRule(id);
    if (r !== undefined) this.#cache.set(id, r);
    return r;
  }

  list(scope: Scope): Promise<readonly AlarmRule[]> | readonly AlarmRule[] {
    return this.#p.service.store.listRules(scope);
  }

  /** Checks, installs and persists a rule for `owner` (undefined: global). */
  async create(owner: string | undefined, body: unknown): Promise<AlarmRule> {
    const p = this.#p;
    const draft = await checkRule(body, {
      prefix: p.prefix,
      owner,
      device: p.device,
      devicesOf: p.devicesOf,
      mayReadStream: p.mayReadStream,
      metricProblem: (m) => metricProblem(p.registry, m),
    });
    if ((await this.list({ owner })).length >= ALARM_LIMITS.rulesPerOwner)
      throw new AlarmError('FERRY_ALARM_LIMIT', `${owner ?? 'global'} has ${ALARM_LIMITS.rulesPerOwner} alarm rules`);
    const id = newRuleId();
    const inst = installation(p.prefix, { ...draft, id }, p.devicesOf, this.#isGateway);
    const jobId = await installJob(this.#p, draft.runtime, inst);
    if (draft.runtime === 'cloud' && this.#p.runsCloudJobs?.() === false) uninstallJob(this.#p.rules, jobId);
    const rule: AlarmRule = { id, ...draft, jobId, createdMs: Date.now() };
    await p.service.store.putRule(rule);
    this.#cache.set(id, rule);
    return rule;
  }

  async delete(rule: AlarmRule): Promise<void> {
    await this.#p.service.store.deleteRule(rule.id);
    this.#cache.delete(rule.id);
    this.#saved.delete(rule.id);
    const gw = /^gateway:(.+)$/.exec(rule.runtime)?.[1];
    try {
      if (gw === undefined) {
        // Scale-out: a worker that is not the alarm leader runs no job of it.
        if (this.#p.runsCloudJobs?.() !== false || this.#running(rule.jobId)) uninstallJob(this.#p.rules, rule.jobId);
      } else {
        await this.#p.gatewayRequest(gw, 'POST', '/api/stop', { jobId: rule.jobId });
        await this.#p.gatewayRequest(gw, 'POST', '/api/uninstall', { jobId: rule.jobId });
      }
    } catch (e) {
      this.#p.log(`alarms: rule ${rule.id}: job ${rule.jobId} not uninstalled: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Installs the persisted cloud rules again (a restart; a gateway keeps its own jobs), and the probe's rule when it runs. */
  async start(probe: ProbeAlarm | undefined): Promise<void> {
    const p = this.#p;
    if (p.runsCloudJobs?.() !== false) for (const r of await this.list('all')) if (r.runtime === 'cloud') await this.#reinstall(r);
    if (probe !== undefined) {
      const draft = {
        name: 'latency probe',
        type: PROBE_RULE,
        severity: 'major',
        source: { kind: 'metric', metric: PROBE_METRIC },
        value: 'value',
        condition: { op: '>', threshold: probe.thresholdMs },
        mOfN: { m: 3, n: 5 },
        missing: { afterMs: Math.max(5000, 3 * probe.periodMs), policy: 'breaching' },
        runtime: 'cloud',
        repeatMs: 0,
      } as const;
      const jobId = await installJob(this.#p, 'cloud', installation(p.prefix, { ...draft, id: PROBE_RULE }, p.devicesOf));
      this.#cache.set(PROBE_RULE, { ...draft, id: PROBE_RULE, jobId, createdMs: Date.now() });
      this.#probe = { alarm: probe, lastAt: undefined };
    }
  }

  async #reinstall(r: AlarmRule): Promise<void> {
    const p = this.#p;
    try {
      const jobId = await installJob(this.#p, 'cloud', installation(p.prefix, r, p.devicesOf, this.#isGateway), r.snapshot);
      const again = { ...r, jobId };
      this.#cache.set(r.id, again);
      if (jobId !== r.jobId) await this.#keep(again);
      // What the job emitted before a kill, saved but perhaps not applied: applied now (once, whatever it was).
      await this.#drain(r.id);
    } catch (e) {
      p.log(`alarms: rule ${r.id} not reinstalled: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Scale-out, the alarm leader (scale-out.ts): installs each stored cloud rule it does not run yet, from its saved
   * state, and uninstalls those deleted since. The probe's rule is each process's own and is left alone.
   */
  async adopt(): Promise<void> {
    const stored = new Map((await this.list('all')).filter((r) => r.runtime === 'cloud' && r.id !== PROBE_RULE).map((r) => [r.id, r]));
    for (const r of [...this.#cache.values()]) {
      if (r.runtime !== 'cloud' || r.id === PROBE_RULE || !this.#running(r.jobId) || stored.has(r.id)) continue;
      uninstallJob(this.#p.rules, r.jobId);
      this.#cache.delete(r.id);
      this.#saved.delete(r.id);
    }
    for (const r of stored.values()) if (!this.#running(this.#cache.get(r.id)?.jobId)) await this.#reinstall(r);
  }

  /** Scale-out: this worker no longer leads; its cloud alarm jobs go (the leader has their saved state). */
  dropCloudJobs(): void {
    for (const r of [...this.#cache.values()]) {
      if (r.runtime !== 'cloud' || r.id === PROBE_RULE) continue;
      if (this.#running(r.jobId)) uninstallJob(this.#p.rules, r.jobId);
      this.#cache.delete(r.id);
      this.#saved.delete(r.id);
    }
  }

  readonly #running = (jobId: string | undefined): boolean => jobId !== undefined && this.#p.rules.engine.list().some((j) => j.jobId === jobId);

  /**
   * Saves the state of each cloud rule's job that changed since the last save. Edges are saved as they happen
   * (`#unapplied`); what a kill loses of the rest is at most one period of a breach streak or M-of-N ring, which
   * only delays the next edge.
   */
  async save(): Promise<void> {
    const engine = this.#p.rules.engine;
    // Transitions the alarms did not take (a store that failed, a full queue) are tried again, in order.
    for (const r of [...this.#cache.values()]) if ((r.unapplied ?? []).length > 0) await this.#drain(r.id);
    for (const r of this.#cache.values()) {
      if (r.runtime !== 'cloud' || r.id === PROBE_RULE || !engine.list().some((j) => j.jobId === r.jobId)) continue;
      const snapshot = engine.job(r.jobId).snapshot();
      const json = JSON.stringify(snapshot);
      if (this.#saved.get(r.id) === json) continue;
      const next = { ...r, snapshot };
      await this.#keep(next);
      this.#cache.set(r.id, next);
      this.#saved.set(r.id, json);
    }
  }

  /** One sample of every metric rule's metric (and the probe's latency when it came back since the last). */
  async sample(): Promise<void> {
    const p = this.#p;
    const now = Date.now();
    // Metrics are per process; scale-out samples the leader's (docs/operations.md "Alarms").
    for (const r of p.runsCloudJobs?.() === false ? [] : await this.list({ owner: undefined })) {
      if (r.source.kind !== 'metric' || r.runtime !== 'cloud') continue;
      const value = await sampleMetric(p.registry, r.source.metric, r.source.labels).catch(() => undefined);
      if (value !== undefined) p.rules.input(metricTopic(p.prefix, r.id), { value, source: r.source.metric }, now);
    }
    const probe = this.#probe;
    const last = probe?.alarm.last();
    if (probe !== undefined && last !== undefined && last.at !== probe.lastAt) {
      probe.lastAt = last.at;
      p.rules.input(metricTopic(p.prefix, PROBE_RULE), { value: last.ms, source: probe.alarm.source ?? 'probe' }, last.at);
    }
  }

  /**
   * A value stored on a composite stream: fed to the cloud's stream alarm jobs on that stream (only them: the
   * rules host is fed device messages), as the record `{<channel>: value, ..., channels, lastUpdate}`.
   */
  streamValue(
    so: string,
    stream: string,
    value: { readonly channels: Readonly<Record<string, unknown>>; readonly lastUpdate: number; readonly id: string },
  ): number {
    const topic = `${this.#p.prefix}/so/${so}/${stream}`;
    let outputs = 0;
    for (const r of this.#cache.values()) {
      if (!feedsOnStream(r, so, stream)) continue;
      const record = { ...value.channels, channels: value.channels, lastUpdate: value.lastUpdate };
      outputs += this.#push(r, topic, record, Date.now(), `${so}/${stream}/${value.id}`);
    }
    return outputs;
  }

  /**
   * A device's released message (the record the cloud's rules see for it, docs/rules.md): fed to the cloud's
   * telemetry alarm jobs on that device, or on all of its owner's devices, that name its event or none. Gateways'
   * readings reach their rules over their uplink topics instead (compile.ts). `device`: its owner and kind as the
   * worker that ingested it knew them (scale-out). Returns how many outputs the jobs emitted.
   */
  telemetry(kid: string, event: unknown, record: unknown, atMs: number, id: string, device = this.#p.device(kid)): number {
    if (device === undefined || device.kind === 'gateway') return 0;
    // A job's time is its records' (docs/rules.md): one device whose clock runs ahead would move it for all the
    // devices of a `"*"` rule and run their silences out. Its time counts as at most now plus the leeway the
    // cloud gives clocks elsewhere (RFC 7519 §4.1.4, TIME_LEEWAY_S).
    const at = Math.min(atMs, Date.now() + TIME_LEEWAY_S * 1000);
    let outputs = 0;
    for (const r of this.#cache.values())
      if (feedsOnDevice(r, kid, device.owner, event)) outputs += this.#push(r, telemetryTopic(this.#p.prefix, r.owner, r.id, kid), record, at, id);
    return outputs;
  }

  #push(r: AlarmRule, topic: string, record: unknown, atMs: number, id: string): number {
    try {
      const out = this.#p.rules.engine.job(r.jobId).push(topic, record, atMs, id);
      for (const o of out) this.ruleOutput(o.topic, JSON.stringify(o.payload));
      return out.length;
    } catch (e) {
      this.#p.log(`alarms: rule ${r.id}: ${e instanceof Error ? e.message : String(e)}`);
      return 0;
    }
  }

  /**
   * A rule output of the cloud's own rules host: true when it is in the alarms space (then it is taken here and
   * never published), false for anything else.
   */
  ruleOutput(topic: string, payload: string): boolean {
    if (!topic.startsWith(`${this.#p.prefix}/alarms/`)) return false;
    let v: unknown;
    try {
      v = JSON.parse(payload);
    } catch {
      v = undefined;
    }
    void this.#take(topic, v, 'cloud');
    return true;
  }

  /** A gateway's rule output relayed to the cloud (`<p>/up/<gw>/rule`), for a topic in the alarms space. */
  fromGateway(gw: string, topic: string, out: unknown): void {
    if (topic.startsWith(`${this.#p.prefix}/alarms/`)) void this.#take(topic, out, `gateway:${gw}`);
  }

  async #take(topic: string, v: unknown, runtime: string): Promise<void> {
    const [, id, extra] = topic.slice(`${this.#p.prefix}/alarms/`.length).split('/');
    const t = asTransition(v);
    const rule = id === undefined || extra !== undefined ? undefined : await this.rule(id);
    // Only the rule's own job, where it was installed, for the owner it was made for.
    if (t === undefined || rule === undefined || rule.runtime !== runtime || outputTopic(this.#p.prefix, rule.owner, rule.id) !== topic) {
      this.#p.log(`alarms: output on ${topic} from ${runtime} ignored: ${t === undefined ? 'not a transition' : 'no such rule here'}`);
      return;
    }
    const gw = /^gateway:(.+)$/.exec(runtime)?.[1];
    if (gw !== undefined && this.#p.device(gw)?.owner !== rule.owner) return;
    const applied = { ...t, type: rule.type, rule: rule.id, source: sourceName(this.#p.prefix, t.source) };
    // A gateway's transitions come again from its outbox until the cloud has them; a cloud job's are saved with
    // the job state that emitted them first, so a kill between the two cannot part the job from the alarms, and
    // are applied in order, each taken off the list only once the alarms took it.
    if (gw !== undefined) {
      await this.#p.service.transition(rule.owner, applied);
      return;
    }
    if ((this.#cache.get(rule.id)?.unapplied ?? []).length >= MAX_UNAPPLIED) {
      this.#p.log(`alarms: rule ${rule.id}: ${MAX_UNAPPLIED} transitions wait for the alarm store; ${applied.kind} at ${applied.atMs} dropped`);
      return;
    }
    await this.#unapplied(rule.id, (u) => [...u, applied]);
    await this.#drain(rule.id);
  }

  /**
   * Applies a cloud rule's unapplied transitions in order, each taken off the list once the alarms took it; at
   * the first one not taken it stops, the rest waiting behind it for the next try (`save`, every check period).
   * One drain per rule at a time.
   */
  #drain(id: string): Promise<void> {
    const run = (this.#draining.get(id) ?? Promise.resolve()).then(async () => {
      const r = this.#cache.get(id);
      for (const t of r?.unapplied ?? []) {
        if (!(await this.#p.service.transition(r?.owner, t))) return;
        await this.#unapplied(id, (u) => u.filter((x) => transitionKey(x) !== transitionKey(t)));
      }
    });
    const settled = run.catch((e: unknown) => this.#p.log(`alarms: rule ${id}: ${e instanceof Error ? e.message : String(e)}`));
    this.#draining.set(id, settled);
    return settled;
  }

  /**
   * An alarm cleared by hand: the cloud job of its rule forgets that source's breach, so the next breaching
   * sample raises a new alarm (docs/operations.md "Alarms"), and its state is saved. A gateway's job keeps its own.
   */
  async clearedByHand(a: Pick<StoredAlarm, 'rule' | 'source'>): Promise<void> {
    const rule = a.rule === undefined ? undefined : await this.rule(a.rule);
    if (rule === undefined || rule.runtime !== 'cloud' || !this.#p.rules.engine.list().some((j) => j.jobId === rule.jobId)) return;
    const reset = this.#p.rules.engine.job(rule.jobId).resetSources((raw) => sourceName(this.#p.prefix, raw) === a.source);
    if (reset > 0) await this.#unapplied(rule.id, (u) => u);
  }

  /** Saves a cloud rule with its job's state now and its unapplied transitions changed by `f`. */
  async #unapplied(id: string, f: (u: readonly AlarmTransition[]) => readonly AlarmTransition[]): Promise<void> {
    const r = this.#cache.get(id);
    const engine = this.#p.rules.engine;
    if (r === undefined || !engine.list().some((j) => j.jobId === r.jobId)) return;
    const snapshot = engine.job(r.jobId).snapshot();
    const next = { ...r, snapshot, unapplied: f(r.unapplied ?? []) };
    this.#cache.set(id, next);
    this.#saved.set(id, JSON.stringify(snapshot));
    await this.#keep(next);
  }

  /** Stores a rule's new state; scale-out only while it exists, so the leader never brings back a deleted rule. */
  async #keep(r: AlarmRule): Promise<void> {
    const store = this.#p.service.store;
    await (store.updateRule?.(r) ?? store.putRule(r));
  }

  /**
   * A gateway came online (its `<p>/gw/<id>/status`). Its jobs live in its memory, so a restarted gateway has
   * none: each of its alarm rules whose job it no longer lists is installed again, afresh (the state went with
   * the gateway's memory; a source still breaching raises again, which counts on the open alarm), and the rule
   * keeps the new job id. Throws when the gateway cannot be asked (the caller tries again).
   */
  async gatewayOnline(gw: string): Promise<void> {
    const p = this.#p;
    const mine = (await this.list('all')).filter((r) => r.runtime === `gateway:${gw}`);
    if (mine.length === 0) return;
    const jobs = await p.gatewayRequest(gw, 'GET', '/api/jobs');
    if (jobs.status >= 300 || !Array.isArray(jobs.body)) throw new Error(`gateway ${gw} listed no jobs: ${jobs.status}`);
    const have = new Set((jobs.body as { jobId?: unknown }[]).map((j) => j.jobId));
    for (const r of mine) {
      if (have.has(r.jobId)) continue;
      const jobId = await installJob(this.#p, r.runtime, installation(p.prefix, r, p.devicesOf, this.#isGateway));
      const again = { ...r, jobId };
      this.#cache.set(r.id, again);
      await p.service.store.putRule(again);
      p.log(`alarms: rule ${r.id} installed again on gateway ${gw} (job ${jobId})`);
    }
  }
}
