/**
 * @module An alarm rule request (POST /api/v1/alarm-rules, docs/operations.md "Alarms") checked field by
 * field and compiled into the installation object of a rule job of jobType `alarm`: its inputs are the
 * owner's device topics (telemetry), a composite stream's topic (stream) or the metric sampler's internal
 * topic (metric); its output is `<prefix>/alarms/<owner or _>/<rule id>`, the space only the cloud reads.
 */
import { SEVERITIES, type AlarmCondition, type AlarmRuleProps, type MissingData } from '@ferry/rules';
import { AlarmError, type AlarmErrorCode } from './errors.ts';
import { ALARM_LIMITS, type AlarmCommand, type AlarmRule, type AlarmSource } from './types.ts';

/** What the check asks of the rest of the cloud, for the owner the rule is for. */
export interface CompileContext {
  readonly prefix: string;
  /** The rule's owner; undefined: a global rule (a credential without an owner). */
  readonly owner: string | undefined;
  /** A device's owner and kind, if it exists. */
  readonly device: (id: string) => { readonly owner?: string | undefined; readonly kind?: string | undefined } | undefined;
  /** The owner's devices (a telemetry rule on `*`). */
  readonly devicesOf: (owner: string | undefined) => readonly string[];
  readonly mayReadStream: (owner: string | undefined, so: string, stream: string) => Promise<boolean>;
  /** Why a metric name cannot be sampled, or undefined when it can (sampler.ts). */
  readonly metricProblem: (metric: string) => string | undefined;
}

/** A checked request: the rule without what installing it gives (id, jobId, createdMs). */
export type RuleDraft = Omit<AlarmRule, 'id' | 'jobId' | 'createdMs'>;

/** Devices one telemetry rule on `*` may read (its input topics). */
export const MAX_RULE_DEVICES = 256;
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const PATH = /^[A-Za-z0-9_$.[\]'"-]{1,256}$/;
const MAX_WINDOW_MS = 7 * 86_400_000;

const fail = (code: AlarmErrorCode, path: string, what: string): never => {
  throw new AlarmError(code, `${path}: ${what}`, { path });
};
const bad = (path: string, what: string): never => fail('FERRY_ALARM_BAD_REQUEST', path, what);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(o: Record<string, unknown>, at: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) bad(at === '' ? k : `${at}.${k}`, 'unknown field');
}
function str(v: unknown, path: string, re: RegExp = NAME): string {
  if (typeof v !== 'string' || !re.test(v)) bad(path, `must be a string matching ${re.source}`);
  return v as string;
}
function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(path, `must be an integer ${min}..${max}`);
  return v as number;
}
function num(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail('FERRY_ALARM_THRESHOLD_TYPE', path, 'must be a finite number');
  return v as number;
}

export function checkCondition(v: unknown): AlarmCondition {
  if (!isObj(v)) return bad('condition', 'must be an object {op, threshold} or {op, low, high}');
  const op = v['op'];
  if (op === '>' || op === '>=' || op === '<' || op === '<=') {
    only(v, 'condition', ['op', 'threshold']);
    return { op, threshold: num(v['threshold'], 'condition.threshold') };
  }
  if (op === '==' || op === '!=') {
    only(v, 'condition', ['op', 'threshold']);
    const t = v['threshold'];
    if (!(typeof t === 'boolean' || typeof t === 'string' || (typeof t === 'number' && Number.isFinite(t))))
      fail('FERRY_ALARM_THRESHOLD_TYPE', 'condition.threshold', 'must be a finite number, a string or a boolean');
    return { op, threshold: t as number | string | boolean };
  }
  if (op === 'between' || op === 'outside') {
    only(v, 'condition', ['op', 'low', 'high']);
    const low = num(v['low'], 'condition.low');
    const high = num(v['high'], 'condition.high');
    if (low > high) fail('FERRY_ALARM_THRESHOLD_TYPE', 'condition.high', 'must be at least low');
    return { op, low, high };
  }
  return bad('condition.op', 'must be one of > >= < <= == != between outside');
}

function checkMissing(v: unknown): MissingData {
  if (!isObj(v)) return bad('missing', 'must be an object {afterMs, policy}');
  only(v, 'missing', ['afterMs', 'policy']);
  const policy = v['policy'];
  if (policy !== 'ignore' && policy !== 'breaching' && policy !== 'not-breaching' && policy !== 'last')
    bad('missing.policy', 'must be ignore, breaching, not-breaching or last');
  return { afterMs: int(v['afterMs'], 'missing.afterMs', 1000, MAX_WINDOW_MS), policy: policy as MissingData['policy'] };
}

function checkSource(v: unknown): AlarmSource {
  if (!isObj(v)) return bad('source', 'must be an object with kind telemetry, stream or metric');
  switch (v['kind']) {
    case 'telemetry': {
      only(v, 'source', ['kind', 'device', 'event']);
      const device = v['device'] === '*' ? '*' : str(v['device'], 'source.device');
      return { kind: 'telemetry', device, ...(v['event'] !== undefined && { event: str(v['event'], 'source.event') }) };
    }
    case 'stream':
      only(v, 'source', ['kind', 'so', 'stream']);
      return { kind: 'stream', so: str(v['so'], 'source.so'), stream: str(v['stream'], 'source.stream') };
    case 'metric': {
      only(v, 'source', ['kind', 'metric', 'labels']);
      const metric = str(v['metric'], 'source.metric', /^[a-zA-Z_:][a-zA-Z0-9_:.]{0,127}$/);
      const labels = v['labels'];
      if (labels === undefined) return { kind: 'metric', metric };
      if (!isObj(labels) || Object.keys(labels).length > 8) bad('source.labels', 'must be an object of at most 8 string labels');
      for (const [k, l] of Object.entries(labels as Record<string, unknown>))
        if (typeof l !== 'string' || l.length > 128) bad(`source.labels.${k}`, 'must be a string');
      return { kind: 'metric', metric, labels: labels as Record<string, string> };
    }
    default:
      return bad('source.kind', 'must be telemetry, stream or metric');
  }
}

function checkCommand(v: unknown): AlarmCommand {
  if (!isObj(v)) return bad('command', 'must be an object {device?, name, args?}');
  only(v, 'command', ['device', 'name', 'args']);
  if (v['args'] !== undefined && !isObj(v['args'])) bad('command.args', 'must be an object');
  return {
    ...(v['device'] !== undefined && { device: str(v['device'], 'command.device') }),
    name: str(v['name'], 'command.name'),
    ...(v['args'] !== undefined && { args: v['args'] as Record<string, unknown> }),
  };
}

/** Checks a request body field by field; throws AlarmError naming the field in `path`. */
export async function checkRule(body: unknown, c: CompileContext): Promise<RuleDraft> {
  if (!isObj(body)) return bad('body', 'must be a JSON object');
  only(body, '', ['owner', 'name', 'type', 'severity', 'source', 'value', 'condition', 'forMs', 'mOfN', 'missing', 'runtime', 'repeatMs', 'command']);
  const name = body['name'];
  if (typeof name !== 'string' || name.length === 0 || name.length > ALARM_LIMITS.nameChars) bad('name', `must be 1..${ALARM_LIMITS.nameChars} characters`);
  const type = str(body['type'], 'type');
  if (!(SEVERITIES as readonly unknown[]).includes(body['severity'])) bad('severity', `must be one of ${SEVERITIES.join(', ')}`);
  const source = checkSource(body['source']);
  if (body['value'] === undefined && source.kind === 'telemetry') bad('value', 'is required for a telemetry alarm (the JSON path of the compared value)');
  const value = body['value'] === undefined ? 'value' : str(body['value'], 'value', PATH);
  const condition = checkCondition(body['condition']);
  const forMs = body['forMs'] === undefined ? undefined : int(body['forMs'], 'forMs', 0, MAX_WINDOW_MS);
  let mOfN: { m: number; n: number } | undefined;
  if (body['mOfN'] !== undefined) {
    const v = body['mOfN'];
    if (!isObj(v)) return bad('mOfN', 'must be an object {m, n}');
    only(v, 'mOfN', ['m', 'n']);
    const n = int(v['n'], 'mOfN.n', 1, 1000);
    mOfN = { m: int(v['m'], 'mOfN.m', 1, n), n };
  }
  const missing = body['missing'] === undefined ? undefined : checkMissing(body['missing']);
  const runtime = body['runtime'] === undefined ? 'cloud' : str(body['runtime'], 'runtime', /^(cloud|gateway:[A-Za-z0-9._-]{1,64})$/);
  const repeatMs = body['repeatMs'] === undefined ? 0 : int(body['repeatMs'], 'repeatMs', 0, MAX_WINDOW_MS);
  if (repeatMs > 0 && repeatMs < ALARM_LIMITS.minRepeatMs) bad('repeatMs', `must be 0 or at least ${ALARM_LIMITS.minRepeatMs}`);
  const command = body['command'] === undefined ? undefined : checkCommand(body['command']);

  // What the rule names must exist and be the owner's.
  const mine = (id: string): boolean => {
    const d = c.device(id);
    return d !== undefined && (c.owner === undefined || d.owner === c.owner);
  };
  if (source.kind === 'metric') {
    if (c.owner !== undefined) fail('FERRY_ALARM_FORBIDDEN', 'source.kind', 'metric alarms are global: they need a credential without an owner');
    if (runtime !== 'cloud') bad('runtime', 'a metric alarm runs in the cloud');
    const why = c.metricProblem(source.metric);
    if (why !== undefined) fail('FERRY_ALARM_UNKNOWN_METRIC', 'source.metric', why);
  }
  if (source.kind === 'telemetry' && source.device !== '*' && !mine(source.device))
    fail('FERRY_ALARM_UNKNOWN_DEVICE', 'source.device', `no device ${source.device}`);
  if (source.kind === 'stream' && !(await c.mayReadStream(c.owner, source.so, source.stream)))
    fail('FERRY_ALARM_UNKNOWN_STREAM', 'source.stream', `no stream ${source.so}/${source.stream} this owner may read`);
  const gw = /^gateway:(.+)$/.exec(runtime)?.[1];
  if (gw !== undefined && (!mine(gw) || c.device(gw)?.kind !== 'gateway')) fail('FERRY_ALARM_UNKNOWN_GATEWAY', 'runtime', `no gateway ${gw}`);
  if (command !== undefined) {
    const target = command.device ?? (source.kind === 'telemetry' && source.device !== '*' ? source.device : undefined);
    if (target === undefined) bad('command.device', 'is required unless the source is one device');
    else if (!mine(target)) fail('FERRY_ALARM_UNKNOWN_DEVICE', 'command.device', `no device ${target}`);
  }
  return {
    ...(c.owner !== undefined && { owner: c.owner }),
    name: name as string,
    type,
    severity: body['severity'] as RuleDraft['severity'],
    source,
    value,
    condition,
    ...(forMs !== undefined && { forMs }),
    ...(mOfN !== undefined && { mOfN }),
    ...(missing !== undefined && { missing }),
    runtime,
    repeatMs,
    ...(command !== undefined && { command }),
  };
}

/** The rule's output topic: transitions come back on it. */
export const outputTopic = (prefix: string, owner: string | undefined, ruleId: string): string => `${prefix}/alarms/${owner ?? '_'}/${ruleId}`;
/** Where the alarm service feeds a cloud telemetry rule a device's messages (an input no device can publish to). */
export const telemetryTopic = (prefix: string, owner: string | undefined, ruleId: string, device: string): string =>
  `${outputTopic(prefix, owner, ruleId)}/in/${device}`;
/** Where the metric sampler feeds a metric rule's samples (an input no device can publish to). */
export const metricTopic = (prefix: string, ruleId: string): string => `${prefix}/alarms/_/${ruleId}/in`;

/** Whether a cloud rule reads a device's messages: that device, or all its owner's (`"*"`), for its event or any. */
export function feedsOnDevice(r: AlarmRule, kid: string, owner: string | undefined, event: unknown): boolean {
  const s = r.source;
  // A rule naming the device was checked against its owner when it was made; "*" is its owner's devices (a
  // global rule's: the devices of no owner).
  if (s.kind !== 'telemetry' || r.runtime !== 'cloud' || (s.device !== kid && (s.device !== '*' || r.owner !== owner))) return false;
  return s.event === undefined || s.event === event;
}

/** Whether a cloud rule reads a composite stream. */
export const feedsOnStream = (r: AlarmRule, so: string, stream: string): boolean =>
  r.source.kind === 'stream' && r.source.so === so && r.source.stream === stream && r.runtime === 'cloud';

/** The installation object of the rule's job (jobType `alarm`, @ferry/rules alarm-types.ts). */
export function installation(
  prefix: string,
  r: RuleDraft & { readonly id: string },
  devicesOf: CompileContext['devicesOf'],
  isGateway: (id: string) => boolean = () => false,
): unknown {
  let input: string | string[];
  let sourcePath: string | undefined;
  switch (r.source.kind) {
    case 'telemetry': {
      const ev = r.source.event ?? '+';
      const devices = r.source.device === '*' ? devicesOf(r.owner) : [r.source.device];
      if (devices.length === 0) return bad('source.device', 'the owner has no devices');
      if (devices.length > MAX_RULE_DEVICES) bad('source.device', `"*" covers more than ${MAX_RULE_DEVICES} devices; name one device per rule`);
      // A gateway's own readings come on `<p>/up/<gw>/<kind>/<sensor>` (docs/gateway.md): `event` is the kind.
      // A device's message may come on any topic under `<p>/up/<kid>/` and names its event in its claims (`ev`):
      // in the cloud the alarm service feeds those to the job on its own input (AlarmRules.telemetry), which
      // also lets `"*"` take devices the owner adds later; a gateway's job listens on the uplink topics.
      const cloud = r.runtime === 'cloud';
      const direct = cloud ? devices.filter(isGateway) : devices;
      input = direct.map((d) => (isGateway(d) ? `${prefix}/up/${d}/${ev}/+` : `${prefix}/up/${d}/${ev}`));
      if (cloud) input.push(telemetryTopic(prefix, r.owner, r.id, r.source.device === '*' ? '+' : r.source.device));
      break;
    }
    case 'stream':
      input = `${prefix}/so/${r.source.so}/${r.source.stream}`;
      break;
    case 'metric':
      input = metricTopic(prefix, r.id);
      sourcePath = 'source';
      break;
  }
  const jobProps: AlarmRuleProps = {
    type: r.type,
    severity: r.severity,
    value: r.value,
    ...(sourcePath !== undefined && { source: sourcePath }),
    condition: r.condition,
    ...(r.forMs !== undefined && { forMs: r.forMs }),
    ...(r.mOfN !== undefined && { mOfN: r.mOfN }),
    ...(r.missing !== undefined && { missing: r.missing }),
  };
  return {
    headers: { runtime: r.runtime, targetResource: r.id, jobType: 'alarm' },
    jobConfig: { connectors: { input, output: outputTopic(prefix, r.owner, r.id) }, jobProps },
  };
}

const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The alarm's source name for a transition's source: a device id for a telemetry topic `<p>/up/<kid>/<event>` or
 * the alarm service's feed of it (`telemetryTopic`),
 * `<gw>/<sensor>` for a gateway's reading `<p>/up/<gw>/<kind>/<sensor>`, `<so>/<stream>` for a stream topic,
 * else the source as it came.
 */
export function sourceName(prefix: string, raw: string): string {
  const fed = new RegExp(`^${reEscape(prefix)}/alarms/[^/]+/[^/]+/in/([^/]+)$`).exec(raw);
  if (fed !== null) return fed[1]!;
  const m = new RegExp(`^${reEscape(prefix)}/(up|so)/([^/]+)/([^/]+)(?:/([^/]+))?$`).exec(raw);
  if (m === null) return raw;
  if (m[1] === 'so') return m[4] === undefined ? `${m[2]}/${m[3]}` : raw;
  // `<p>/up/<gw>/<kind>/<sensor>`: a gateway's sensor, named `<gw>/<sensor>` as device liveness names it.
  return m[4] === undefined ? m[2]! : `${m[2]}/${m[4]}`;
}
