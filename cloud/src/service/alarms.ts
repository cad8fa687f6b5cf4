/**
 * @module The alarm service wired into the cloud (docs/operations.md "Alarms"): its store (cloud.db embedded,
 * Redis scale-out), the rule jobs' outputs in the alarms space (taken before they reach the broker), gateways'
 * relayed outputs, health events, the metric sampler and the sweep of live alarms every check period.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { IngestEvent } from '../ingest/index.ts';
import { healthTransition } from '../alarms/health.ts';
import { AlarmMetrics } from '../alarms/metrics.ts';
import { RedisAlarmStore } from '../alarms/redis-store.ts';
import { AlarmRules } from '../alarms/rules.ts';
import { AlarmScaleOut } from '../alarms/scale-out.ts';
import { AlarmService } from '../alarms/service.ts';
import { SqliteAlarmStore } from '../alarms/sqlite-store.ts';
import type { NotifyEvent } from '../notify/types.ts';
import { relayedTopic, ruleInput } from './rules.ts';
import type { CloudService } from './service.ts';

/** The built-in probe-latency alarm's threshold when the options name none (ms). */
export const PROBE_ALARM_MS = 1000;

export class CloudAlarms {
  readonly #svc: CloudService;
  #service: AlarmService | undefined;
  #rules: AlarmRules | undefined;
  #redis: Redis | undefined;
  /** Scale-out: the alarm leader's lease and the inputs forwarded to it (alarms/scale-out.ts). */
  #out: AlarmScaleOut | undefined;
  #timer: NodeJS.Timeout | undefined;
  #off: (() => void) | undefined;
  #sweeping: Promise<void> | undefined;
  /** Gateways whose lost alarm jobs are being installed again (`gatewayOnline`). */
  readonly #reinstalling = new Set<string>();
  #stopped = false;

  constructor(svc: CloudService) {
    this.#svc = svc;
  }

  /** The service and its rules once started (the API answers 503 before). */
  get parts(): { readonly service: AlarmService; readonly rules: AlarmRules } | undefined {
    return this.#service !== undefined && this.#rules !== undefined ? { service: this.#service, rules: this.#rules } : undefined;
  }

  /** Whether this process runs the cloud's alarm jobs: embedded always, scale-out the alarm leader only. */
  get leads(): boolean {
    return this.#out?.leading ?? true;
  }

  async start(): Promise<void> {
    const svc = this.#svc;
    const o = svc.opts;
    const prefix = o.topicPrefix ?? 'ferry';
    const log = (m: string): void => (o.log ?? console.log)(m);
    if (o.redisUrl !== undefined) this.#redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 3 });
    const store = this.#redis !== undefined ? new RedisAlarmStore({ redis: this.#redis }) : new SqliteAlarmStore(svc.db);
    const metrics = new AlarmMetrics(svc.registry);
    const service = new AlarmService({
      store,
      notifier: svc.notifier,
      enqueue: (r) => svc.commands.service.enqueue(r),
      rule: (id) => rules.rule(id),
      cleared: async (a) => await (this.#out ?? rules).clearedByHand(a),
      metrics,
      log,
    });
    const rules = new AlarmRules({
      prefix,
      service,
      rules: svc.rules,
      registry: svc.registry,
      gatewayRequest: (gw, m, path, body) => svc.gatewayRequest(gw, m, path, body),
      device: (id) => svc.devices.info(id),
      devicesOf: (owner) =>
        svc.devices
          .list()
          .filter((d) => d.owner === owner && d.namespace !== 'ferry-probe') // the latency probe's device is the cloud's own
          .map((d) => d.id),
      mayReadStream: async (owner, so, stream) =>
        (await svc.compose.mayRead(owner === undefined ? { global: true } : { owner }, so, stream)) && svc.compose.engine.so(so)?.streams.has(stream) === true,
      log,
      runsCloudJobs: () => this.leads,
    });
    this.#service = service;
    this.#rules = rules;
    if (this.#redis !== undefined)
      this.#out = new AlarmScaleOut({
        redis: this.#redis,
        worker: `${o.clientId ?? hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`,
        rules,
        listRules: async () => await store.listRules('all'),
        device: (id) => svc.devices.info(id),
        log,
        periodMs: o.health?.checkPeriodMs ?? 1000,
      });
    const out = this.#out;
    const offIngest = svc.ingest.subscribe((e) => this.#relayed(e));
    const offStreams = svc.compose.onStored((v) => (out ?? rules).streamValue(v.so, v.stream, v.value));
    this.#off = () => {
      offIngest();
      offStreams();
    };
    const probe = svc.ops.probe;
    await rules.start(
      probe === undefined || o.health?.probe === undefined
        ? undefined
        : {
            thresholdMs: o.health.probe.alarmMs ?? PROBE_ALARM_MS,
            periodMs: o.health.probe.periodMs,
            ...(this.#out !== undefined && { source: `probe@${o.clientId ?? hostname()}` }),
            last: () => {
              const s = probe.summary();
              return s.lastMs !== undefined && s.lastAt !== undefined ? { ms: s.lastMs, at: s.lastAt } : undefined;
            },
          },
    );
    const tick = async (): Promise<void> => {
      await rules.sample();
      metrics.open(await service.sweep());
      await rules.save();
    };
    this.#sweeping = tick().catch((e: unknown) => log(`alarms: ${String(e)}`)); // hands over what a previous run left pending
    this.#timer = setInterval(() => {
      if (this.#sweeping !== undefined) return;
      this.#sweeping = tick()
        .catch((e: unknown) => log(`alarms: ${String(e)}`))
        .finally(() => {
          this.#sweeping = undefined;
        });
    }, o.health?.checkPeriodMs ?? 1000);
    this.#timer.unref();
    await this.#sweeping;
    this.#sweeping = undefined;
    await out?.start();
  }

  /**
   * A gateway came online: its alarm rules are installed again if it lost them (a restart). Tried up to 5 times,
   * 2 s apart: the gateway may not listen on its control channel yet when it says it is online. In scale-out
   * every worker hears it: one, the first to take a short Redis lock for that gateway, does it.
   */
  gatewayOnline(gw: string): void {
    if (this.#reinstalling.has(gw)) return;
    this.#reinstalling.add(gw);
    const log = (m: string): void => (this.#svc.opts.log ?? console.log)(m);
    void (async () => {
      const prefix = this.#svc.opts.topicPrefix ?? 'ferry';
      if (this.#redis !== undefined && (await this.#redis.set(`${prefix}:alarms:reinstall:${gw}`, '1', 'PX', 30_000, 'NX').catch(() => null)) !== 'OK') return;
      for (let i = 0; i < 5 && !this.#stopped; i++) {
        try {
          if (this.#rules === undefined) return;
          return await this.#rules.gatewayOnline(gw);
        } catch (e) {
          log(`alarms: gateway ${gw}'s rules not checked: ${e instanceof Error ? e.message : String(e)}`);
          await new Promise((r) => setTimeout(r, 2000).unref());
        }
      }
    })().finally(() => this.#reinstalling.delete(gw));
  }

  /** A rule output of the cloud's own rules host: true when it is in the alarms space (taken here, never published). */
  ruleOutput(topic: string, payload: string): boolean {
    const prefix = this.#svc.opts.topicPrefix ?? 'ferry';
    if (this.#rules !== undefined) return this.#rules.ruleOutput(topic, payload);
    return topic.startsWith(`${prefix}/alarms/`);
  }

  /** A notifier event on its way: health events also raise and clear alarms. Returns the event unchanged. */
  observe(e: NotifyEvent): NotifyEvent {
    const h = this.#service === undefined ? undefined : healthTransition(e, (id) => this.#svc.devices.info(id)?.owner);
    if (h !== undefined) void this.#service?.transition(h.owner, h.t);
    return e;
  }

  #relayed(e: IngestEvent): void {
    if (e.type !== 'message') return;
    const topic = relayedTopic(e);
    const input = topic === undefined ? ruleInput(e) : undefined;
    if (topic !== undefined) this.#rules?.fromGateway(e.kid, topic, (e.message.claims['d'] as Record<string, unknown>)['out']);
    else if (input !== undefined) (this.#out ?? this.#rules)?.telemetry(e.kid, e.message.claims['ev'], input.record, input.atMs, input.id);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#off?.();
    await this.#sweeping;
    await this.#service?.settled();
    await this.#out?.close();
    await this.#rules?.save().catch((e: unknown) => (this.#svc.opts.log ?? console.log)(`alarms: job state not saved: ${String(e)}`));
    await this.#redis?.quit().catch(() => undefined);
  }
}
