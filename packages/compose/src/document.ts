/**
 * @module Service-object documents: ServIoTicy's 0.1.0 and 0.2.0 formats, accepted unchanged, plus Ferry's
 * fields (`owner`, `grants`, `tokens`; `actions` as ServIoTicy has it). A channel's `current-value` is a
 * 0.1.0 template (fast path), a `function(A, group){ ... }` (run by the JsRunner port, whatever the
 * version field says, since ServIoTicy's own 0.1.0 tests carry functions too), or a wasm function by
 * content hash `{"fn": "<sha256>", "export": "<name>", "inputs"?: [...]}`. Fields ServIoTicy documents
 * carry that the engine does not use (name, description, customFields, ...) are kept and ignored.
 */
import { type ComposeError, type ErrorWhere, composeError } from './errors.ts';
import { type CompiledExpr, compileTemplate } from './expr.ts';
import { isKnownType } from './values.ts';

export const DOC_LIMITS = { streamsPerSO: 64, channelsPerStream: 32, groupsPerSO: 32, groupMembers: 64, maxJsSource: 16_384, idLength: 128 } as const;

export type Principal = { readonly owner: string } | { readonly token: string };
/** A grant an owner makes on one of its streams (`*`: all of the object's streams). */
export interface Grant {
  readonly stream: string;
  readonly to: Principal;
}

export interface JsFunction {
  readonly source: string;
  readonly params: readonly string[];
}
export interface WasmFunction {
  readonly hash: string;
  readonly export: string;
  readonly inputs: readonly string[];
}

/** A computation: a template, a JavaScript function, or a wasm function; `inputs` are the names it reads. */
export type Code =
  | { readonly kind: 'template'; readonly expr: CompiledExpr; readonly inputs: readonly string[] }
  | { readonly kind: 'js'; readonly js: JsFunction; readonly inputs: readonly string[] }
  | { readonly kind: 'fn'; readonly fn: WasmFunction; readonly inputs: readonly string[] };

export interface CompiledChannel {
  readonly name: string;
  readonly type: string;
  readonly code: Code | undefined;
}

export interface CompiledStream {
  readonly name: string;
  readonly composite: boolean;
  readonly channels: ReadonlyMap<string, CompiledChannel>;
  readonly types: ReadonlyMap<string, string>;
  readonly pre: Code | undefined;
  readonly post: Code | undefined;
  /** Streams of this object and groups it reads, never itself. */
  readonly inputs: ReadonlySet<string>;
  /** Whether it reads its own previous output (ServIoTicy's self streams); that never triggers it. */
  readonly readsSelf: boolean;
}

export interface Group {
  readonly soIds: readonly string[];
  readonly stream: string;
}

export interface CompiledSO {
  readonly id: string;
  readonly owner: string;
  readonly version: '0.1.0' | '0.2.0';
  readonly streams: ReadonlyMap<string, CompiledStream>;
  readonly groups: ReadonlyMap<string, Group>;
  readonly grants: readonly Grant[];
  readonly tokens: readonly string[];
  /** Whether the document says `"public": true`: every owner may read its streams. */
  readonly isPublic: boolean;
  /** The document as given (kept as JSON text, which takes far less memory than the parsed tree). */
  readonly document: Readonly<Record<string, unknown>>;
}

type Res<T> = { ok: true; value: T } | { ok: false; error: ComposeError };
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const ID = /^[A-Za-z0-9_$][A-Za-z0-9_$-]*$/;
const EMPTY_SET: ReadonlySet<string> = new Set();
/**
 * Channel maps of simple streams, interned by shape: many objects (one per device of a model) declare the
 * same channels, and one shared pair of maps per shape keeps 100 000 streams well under the memory goal.
 */
const SIMPLE_SHAPES = new Map<string, { channels: ReadonlyMap<string, CompiledChannel>; types: ReadonlyMap<string, string> }>();
const MAX_SHAPES = 4096;
const TEMPLATES = new Map<string, CompiledExpr>();
const FN_HEAD = /^\s*function\s*\(([^)]*)\)\s*\{[\s\S]*\}\s*;?\s*$/;

class Bad {
  readonly error: ComposeError;
  constructor(error: ComposeError) {
    this.error = error;
  }
}
const bad = (code: Parameters<typeof composeError>[0], detail: string, where: ErrorWhere): Bad => new Bad(composeError(code, detail, where));

/** Parses and checks a document; references to other objects (group members) are the engine's to resolve. */
export function compileSO(id: string, raw: unknown, owner: string): Res<CompiledSO> {
  try {
    return { ok: true, value: compile(id, raw, owner) };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, error: e.error };
    throw e;
  }
}

function compile(id: string, raw: unknown, owner: string): CompiledSO {
  const at: ErrorWhere = { so: id };
  if (!isRecord(raw)) throw bad('FERRY_COMPOSE_DOCUMENT', 'a service object is a JSON object', at);
  if (id.length === 0 || id.length > DOC_LIMITS.idLength || !ID.test(id))
    throw bad('FERRY_COMPOSE_DOCUMENT', 'an object id is 1-128 letters, digits, _, $ or -', at);
  const version = raw['version'] ?? '0.1.0';
  if (version !== '0.1.0' && version !== '0.2.0') throw bad('FERRY_COMPOSE_DOCUMENT', 'version is "0.1.0" or "0.2.0"', at);
  if (raw['owner'] !== undefined && raw['owner'] !== owner) throw bad('FERRY_COMPOSE_DOCUMENT', 'owner differs from the owner creating the object', at);
  for (const f of ['name', 'description', 'URL'] as const)
    if (raw[f] !== undefined && typeof raw[f] !== 'string') throw bad('FERRY_COMPOSE_DOCUMENT', `${f} is a string`, at);
  if (raw['public'] !== undefined && typeof raw['public'] !== 'boolean') throw bad('FERRY_COMPOSE_DOCUMENT', 'public is a boolean', at);
  if (raw['actions'] !== undefined && !Array.isArray(raw['actions'])) throw bad('FERRY_COMPOSE_DOCUMENT', 'actions is an array', at);
  const groups = parseGroups(raw['groups'], at);
  const rawStreams = raw['streams'];
  if (!isRecord(rawStreams)) throw bad('FERRY_COMPOSE_DOCUMENT', 'streams is an object of streams by name', at);
  const names = Object.keys(rawStreams);
  if (names.length > DOC_LIMITS.streamsPerSO) throw bad('FERRY_COMPOSE_LIMIT', `more than ${DOC_LIMITS.streamsPerSO} streams`, at);
  for (const n of names) {
    if (!ID.test(n)) throw bad('FERRY_COMPOSE_DOCUMENT', 'a stream name is letters, digits, _, $ or -', { ...at, stream: n });
    if (groups.has(n)) throw bad('FERRY_COMPOSE_DOCUMENT', 'a stream and a group share this name', { ...at, stream: n });
  }
  const known = new Set([...names, ...groups.keys()]);
  const streams = new Map<string, CompiledStream>();
  for (const n of names) streams.set(n, parseStream(n, rawStreams[n], known, { ...at, stream: n }));
  const json = JSON.stringify(raw);
  return {
    id,
    owner,
    version,
    streams,
    groups,
    grants: parseGrants(raw['grants'], new Set(names), at),
    tokens: parseTokens(raw['tokens'], at),
    isPublic: raw['public'] === true,
    get document() {
      return JSON.parse(json) as Record<string, unknown>;
    },
  };
}

function parseGroups(raw: unknown, at: ErrorWhere): Map<string, Group> {
  const out = new Map<string, Group>();
  if (raw === undefined) return out;
  if (!isRecord(raw)) throw bad('FERRY_COMPOSE_DOCUMENT', 'groups is an object of groups by name', at);
  if (Object.keys(raw).length > DOC_LIMITS.groupsPerSO) throw bad('FERRY_COMPOSE_LIMIT', `more than ${DOC_LIMITS.groupsPerSO} groups`, at);
  for (const [name, g] of Object.entries(raw)) {
    const where = { ...at, stream: name };
    if (!ID.test(name)) throw bad('FERRY_COMPOSE_DOCUMENT', 'a group name is letters, digits, _, $ or -', where);
    if (!isRecord(g) || !Array.isArray(g['soIds']) || typeof g['stream'] !== 'string' || !g['soIds'].every((s) => typeof s === 'string'))
      throw bad('FERRY_COMPOSE_DOCUMENT', 'a group is {"soIds": [<object id>...], "stream": <stream name>}', where);
    if (g['soIds'].length === 0 || g['soIds'].length > DOC_LIMITS.groupMembers)
      throw bad('FERRY_COMPOSE_LIMIT', `a group has 1-${DOC_LIMITS.groupMembers} members`, where);
    out.set(name, { soIds: [...new Set(g['soIds'] as string[])], stream: g['stream'] });
  }
  return out;
}

function parseGrants(raw: unknown, streams: ReadonlySet<string>, at: ErrorWhere): Grant[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw bad('FERRY_COMPOSE_DOCUMENT', 'grants is an array of {"stream", "to": {"owner"} | {"token"}}', at);
  return raw.map((g) => {
    const to = isRecord(g) ? g['to'] : undefined;
    const ok =
      isRecord(g) &&
      typeof g['stream'] === 'string' &&
      isRecord(to) &&
      Object.keys(to).length === 1 &&
      (typeof to['owner'] === 'string' || typeof to['token'] === 'string');
    if (!ok) throw bad('FERRY_COMPOSE_DOCUMENT', 'a grant is {"stream": <name or *>, "to": {"owner": id} | {"token": id}}', at);
    if (g['stream'] !== '*' && !streams.has(g['stream'] as string))
      throw bad('FERRY_COMPOSE_REFERENCE', 'a grant names a stream the object does not have', { ...at, stream: g['stream'] as string });
    return { stream: g['stream'] as string, to: typeof to['owner'] === 'string' ? { owner: to['owner'] } : { token: to['token'] as string } };
  });
}

function parseTokens(raw: unknown, at: ErrorWhere): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every((t) => typeof t === 'string')) throw bad('FERRY_COMPOSE_DOCUMENT', 'tokens is an array of public token ids', at);
  return raw as string[];
}

function parseStream(name: string, raw: unknown, known: ReadonlySet<string>, at: ErrorWhere): CompiledStream {
  if (!isRecord(raw) || !isRecord(raw['channels'])) throw bad('FERRY_COMPOSE_DOCUMENT', 'a stream is {"channels": {...}, "pre-filter"?, "post-filter"?}', at);
  const rawChannels = raw['channels'];
  if (Object.keys(rawChannels).length > DOC_LIMITS.channelsPerStream)
    throw bad('FERRY_COMPOSE_LIMIT', `more than ${DOC_LIMITS.channelsPerStream} channels`, at);
  const channels = new Map<string, CompiledChannel>();
  const types = new Map<string, string>();
  for (const [ch, c] of Object.entries(rawChannels)) {
    const where = { ...at, channel: ch };
    if (!isRecord(c) || typeof c['type'] !== 'string') throw bad('FERRY_COMPOSE_DOCUMENT', 'a channel is {"type": <type>, "unit"?, "current-value"?}', where);
    if (!isKnownType(c['type'])) throw bad('FERRY_COMPOSE_TYPE', `unknown channel type ${JSON.stringify(c['type'])}`, where);
    if (c['unit'] !== undefined && typeof c['unit'] !== 'string') throw bad('FERRY_COMPOSE_DOCUMENT', 'unit is a string', where);
    types.set(ch, c['type']);
    const cv = c['current-value'];
    channels.set(ch, { name: ch, type: c['type'], code: cv === undefined ? undefined : parseCode(cv, name, known, new Set(), where) });
  }
  const composite = [...channels.values()].some((c) => c.code !== undefined);
  if (!composite && raw['pre-filter'] === undefined && raw['post-filter'] === undefined) {
    const shape = JSON.stringify([...types]);
    let shared = SIMPLE_SHAPES.get(shape);
    if (shared === undefined) {
      shared = { channels, types };
      if (SIMPLE_SHAPES.size < MAX_SHAPES) SIMPLE_SHAPES.set(shape, shared);
    }
    return { name, composite, channels: shared.channels, types: shared.types, pre: undefined, post: undefined, inputs: EMPTY_SET, readsSelf: false };
  }
  const filter = (key: 'pre-filter' | 'post-filter'): Code | undefined => {
    const f = raw[key];
    if (f === undefined) return undefined;
    if (typeof f !== 'string') throw bad('FERRY_COMPOSE_DOCUMENT', `${key} is a string`, { ...at, channel: key });
    return parseCode(f, name, known, new Set(key === 'post-filter' ? ['result'] : []), { ...at, channel: key });
  };
  const pre = filter('pre-filter');
  const post = filter('post-filter');
  const codes = [...[...channels.values()].map((c) => c.code), pre, post].filter((c): c is Code => c !== undefined);
  const all = new Set(codes.flatMap((c) => c.inputs));
  const readsSelf = all.has(name);
  all.delete(name);
  all.delete('result');
  all.delete('');
  if (composite && all.size === 0)
    throw bad('FERRY_COMPOSE_REFERENCE', 'a composite stream reads no other stream or group, so nothing would ever trigger it', at);
  return { name, composite, channels, types, pre, post, inputs: all, readsSelf };
}

function parseCode(cv: unknown, self: string, known: ReadonlySet<string>, extra: ReadonlySet<string>, where: ErrorWhere): Code {
  if (isRecord(cv)) {
    const { fn, export: exp, inputs } = cv as { fn?: unknown; export?: unknown; inputs?: unknown };
    if (typeof fn !== 'string' || !/^[0-9a-f]{64}$/.test(fn) || typeof exp !== 'string' || exp === '')
      throw bad('FERRY_COMPOSE_DOCUMENT', 'a wasm channel is {"fn": <sha256 hex>, "export": <name>, "inputs"?: [<stream or group>...]}', where);
    if (inputs !== undefined && (!Array.isArray(inputs) || !inputs.every((i) => typeof i === 'string')))
      throw bad('FERRY_COMPOSE_DOCUMENT', 'inputs is an array of stream or group names', where);
    const names = (inputs as string[] | undefined) ?? [...known].filter((k) => k !== self);
    for (const n of names) if (!known.has(n)) throw bad('FERRY_COMPOSE_REFERENCE', `${n} names no stream or group`, where);
    return { kind: 'fn', fn: { hash: fn, export: exp, inputs: names }, inputs: names };
  }
  if (typeof cv !== 'string') throw bad('FERRY_COMPOSE_DOCUMENT', 'current-value is a template string, a function string or {"fn", "export"}', where);
  const head = FN_HEAD.exec(cv);
  if (head !== null) {
    if (cv.length > DOC_LIMITS.maxJsSource) throw bad('FERRY_COMPOSE_TOO_LARGE', `a function is at most ${DOC_LIMITS.maxJsSource} characters`, where);
    const params = head[1]!
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    for (const p of params) {
      if (!known.has(p)) throw bad('FERRY_COMPOSE_REFERENCE', `parameter ${p} names no stream or group`, { ...where, position: cv.indexOf(p) });
    }
    // A function reads its own stream's previous output through a free variable of the stream's name.
    const selfRead = new RegExp(`(^|[^A-Za-z0-9_$.])${self.replace(/\$/g, '\\$')}([^A-Za-z0-9_$]|$)`).test(cv.slice(cv.indexOf('{')));
    return { kind: 'js', js: { source: cv, params }, inputs: selfRead ? [...params, self] : params };
  }
  if (/^\s*function\b/.test(cv)) throw bad('FERRY_COMPOSE_SYNTAX', 'a function is function(<inputs>){ <body> }', { ...where, position: 0 });
  // Objects of one device model repeat the same templates: a compiled template is shared when every name it reads exists here too.
  const cached = TEMPLATES.get(cv);
  if (cached?.refs.every((x) => x.name === '' || known.has(x.name) || extra.has(x.name)))
    return { kind: 'template', expr: cached, inputs: [...new Set(cached.refs.map((x) => x.name))] };
  const r = compileTemplate(cv, new Set([...known, ...extra]), where);
  if (!r.ok) throw new Bad(r.error);
  if (TEMPLATES.size < MAX_SHAPES) TEMPLATES.set(cv, r.value);
  return { kind: 'template', expr: r.value, inputs: [...new Set(r.value.refs.map((x) => x.name))] };
}
