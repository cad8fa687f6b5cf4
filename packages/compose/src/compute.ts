/**
 * @module One computation of one composite stream: read the latest stored value of every input (a group
 * reads its member with the newest update; another owner's stream only through a grant), drop it when
 * not newer than the stream's last output, run the pre-filter, the channels and the post-filter, and
 * build the output with its idempotency key. Never throws: every failure is an outcome.
 */
import type { Code } from './document.ts';
import { type ComposeError, composeError, isComposeError } from './errors.ts';
import { evaluate } from './eval.ts';
import type { ComposeStore, FnRunner, GrantPort, InputDocument, JsRunner, Reader } from './ports.ts';
import type { Node } from './topology.ts';
import { type StreamValue, type Value, hasType, valueProblem } from './values.ts';

export type Outcome = 'emitted' | 'not-newer' | 'pre-filter' | 'post-filter' | 'null' | 'error' | 'forbidden' | 'duplicate';

export interface Computation {
  readonly outcome: Outcome;
  readonly value?: StreamValue;
  readonly error?: ComposeError;
  /** The lastUpdate the output had or would have had. */
  readonly lastUpdate?: number;
}

export interface ComputeContext {
  readonly store: ComposeStore;
  readonly grants: GrantPort;
  readonly js: JsRunner | undefined;
  readonly fn: FnRunner | undefined;
  readonly budget: number;
  /** Owner of the object a stream key belongs to. */
  readonly ownerOf: (key: string) => string | undefined;
}

/** Inputs by name ('' is the triggering update, the stream's own name its previous output, `result` the new output). */
type Scope = Map<string, StreamValue | null>;

/** FNV-1a over the text, twice with different offsets: a short stable key, not a security boundary. */
export function digest(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The idempotency key of an output: its stream and the version (lastUpdate) of every input it read. */
export function outputId(key: string, lastUpdate: number, versions: readonly string[]): string {
  return `${lastUpdate}:${digest(`${key}<-${versions.join(',')}`)}`;
}

export const toDocument = (v: StreamValue | null | undefined): InputDocument => {
  if (v === null || v === undefined) return null;
  const channels: Record<string, { 'current-value': Value }> = {};
  for (const [k, x] of Object.entries(v.channels)) channels[k] = { 'current-value': x };
  return { channels, lastUpdate: v.lastUpdate };
};

export async function allowed(ctx: ComputeContext, reader: Reader, key: string): Promise<boolean> {
  const owner = ctx.ownerOf(key);
  if (owner === undefined) return false;
  if (owner === reader.owner) return true;
  const slash = key.indexOf('/');
  return await ctx.grants.allows(reader, { so: key.slice(0, slash), stream: key.slice(slash + 1), owner });
}

/** Computes `node` after its inputs `triggers` were updated. */
export async function compute(node: Node, triggers: readonly string[], ctx: ComputeContext): Promise<Computation> {
  const reader: Reader = { owner: node.so.owner, tokens: node.so.tokens };
  const where = { so: node.so.id, stream: node.stream.name };
  let trigger: StreamValue | undefined;
  let anyAllowed = false;
  for (const t of triggers) {
    if (!(await allowed(ctx, reader, t))) continue;
    anyAllowed = true;
    const v = await ctx.store.latest(t);
    if (v !== undefined && (trigger === undefined || v.lastUpdate > trigger.lastUpdate)) trigger = v;
  }
  if (!anyAllowed) return { outcome: 'forbidden', error: composeError('FERRY_COMPOSE_FORBIDDEN', `no grant to read ${triggers.join(', ')}`, where) };
  const scope: Scope = new Map();
  const versions: string[] = [];
  let lastUpdate = -1;
  for (const [name, keys] of node.members) {
    let best: StreamValue | undefined;
    let bestKey = '';
    for (const k of keys) {
      if (!(await allowed(ctx, reader, k))) continue;
      const v = await ctx.store.latest(k);
      if (v !== undefined && (best === undefined || v.lastUpdate > best.lastUpdate)) {
        best = v;
        bestKey = k;
      }
    }
    scope.set(name, best ?? null);
    if (best !== undefined) {
      versions.push(`${bestKey}@${best.lastUpdate}`);
      lastUpdate = Math.max(lastUpdate, best.lastUpdate);
    }
  }
  const previous = (await ctx.store.latest(node.key)) ?? null;
  if (lastUpdate < 0) return { outcome: 'null' };
  if (previous !== null && lastUpdate <= previous.lastUpdate) return { outcome: 'not-newer', lastUpdate };
  const id = outputId(node.key, lastUpdate, versions);
  if (previous !== null && previous.id === id) return { outcome: 'duplicate', lastUpdate };
  scope.set(node.stream.name, previous);
  scope.set('', trigger ?? null);
  try {
    if (node.stream.pre !== undefined && !(await run(node.stream.pre, scope, node, ctx, 'pre-filter'))) return { outcome: 'pre-filter', lastUpdate };
    const channels: Record<string, Value> = {};
    for (const ch of node.stream.channels.values()) {
      if (ch.code === undefined) continue;
      const v = await run(ch.code, scope, node, ctx, ch.name);
      if (v === null || v === undefined) return { outcome: 'null', lastUpdate };
      const p = valueProblem(v);
      if (p !== undefined) throw composeError('FERRY_COMPOSE_RUNTIME_TYPE', `the result is not a channel value: ${p}`, { ...where, channel: ch.name });
      if (!hasType(v as Value, ch.type))
        throw composeError('FERRY_COMPOSE_RUNTIME_TYPE', `the result is not of the channel's type ${ch.type}`, { ...where, channel: ch.name });
      channels[ch.name] = v as Value;
    }
    const value: StreamValue = { channels, lastUpdate, id };
    if (node.stream.post !== undefined) {
      scope.set('result', value);
      if (!(await run(node.stream.post, scope, node, ctx, 'post-filter'))) return { outcome: 'post-filter', lastUpdate };
    }
    return { outcome: 'emitted', value, lastUpdate };
  } catch (e) {
    return { outcome: 'error', lastUpdate, error: isComposeError(e) ? e : composeError('FERRY_COMPOSE_RUNNER', String(e), where) };
  }
}

/** Runs one code of the stream over the scope; throws a ComposeError on failure (caught by compute). */
export async function run(code: Code, scope: Scope, node: Node, ctx: ComputeContext, channel: string): Promise<unknown> {
  const where = { so: node.so.id, stream: node.stream.name, channel };
  if (code.kind === 'template') {
    const refs = code.expr.refs.map((r) => {
      const doc = scope.get(r.name) ?? null;
      if (doc === null) return null;
      if (r.path[0] === 'lastUpdate') return doc.lastUpdate;
      return doc.channels[r.path[1]!] ?? null;
    });
    const r = evaluate(code.expr, refs, where, ctx.budget);
    if (!r.ok) throw r.error;
    return r.value.value;
  }
  if (code.kind === 'js') {
    if (ctx.js === undefined) throw composeError('FERRY_COMPOSE_NO_RUNNER', 'no JavaScript runner on this host', where);
    const globals: Record<string, InputDocument> = { $input: toDocument(scope.get('')) };
    globals[node.stream.name] = toDocument(scope.get(node.stream.name));
    if (scope.has('result')) globals['result'] = toDocument(scope.get('result'));
    const r = await ctx.js.run(
      code.js.source,
      code.js.params.map((p) => toDocument(scope.get(p))),
      globals,
      { owner: node.so.owner, so: node.so.id, stream: node.stream.name },
    );
    if (!r.ok) throw r.error;
    return r.value;
  }
  if (ctx.fn === undefined) throw composeError('FERRY_COMPOSE_NO_RUNNER', 'no wasm function runner on this host', where);
  const r = await ctx.fn.call(
    code.fn.hash,
    code.fn.export,
    code.fn.inputs.map((p) => toDocument(scope.get(p))),
    { owner: node.so.owner, so: node.so.id, stream: node.stream.name },
  );
  if (!r.ok) throw r.error;
  return r.value;
}
