/**
 * @module The composite-stream engine's wasm port (packages/compose FnRunner) on the cloud's function
 * service (docs/composite-streams.md "Hosting"): a channel `{"fn": "<sha256>", "export": "<name>"}` runs
 * the module by hash as its object's owner, through the call protocol's own steps (the owner's call rate,
 * the namespace's memory and key quotas, the runner's deadline), in the owner's namespace COMPOSE_NAMESPACE,
 * and only if the owner white-listed the hash there: a composite runs unattended, so it runs nothing its
 * owner did not name. Each input gives the values of its channels, in the order the input's value lists
 * them (numbers; booleans as 0 or 1); an input without a value yet makes the channel emit nothing.
 */
import { composeError, type FnRunner, type InputDocument } from '@ferry/compose';
import type { FunctionService } from '../functions/index.ts';

/** The namespace a composite's wasm functions run in (white-list and state are the owner's there). */
export const COMPOSE_NAMESPACE = 'compose';

type Arg = number | string;

/** The call arguments of the inputs, or undefined when one has no value yet (or a value a call cannot carry). */
export function argsOf(inputs: readonly InputDocument[]): Arg[] | undefined {
  const args: Arg[] = [];
  for (const d of inputs) {
    if (d === null) return undefined;
    for (const c of Object.values(d.channels)) {
      const v = c['current-value'];
      if (typeof v === 'number') args.push(v);
      else if (typeof v === 'boolean') args.push(v ? 1 : 0);
      else return undefined;
    }
  }
  return args;
}

export function functionFnRunner(fns: FunctionService): FnRunner {
  return {
    async call(hash, exportName, inputs, ctx) {
      const where = { so: ctx.so, stream: ctx.stream };
      if (!fns.whitelist.has(ctx.owner, COMPOSE_NAMESPACE, hash))
        return {
          ok: false,
          error: composeError('FERRY_COMPOSE_RUNNER', `FERRY_FN_NOT_WHITELISTED: ${hash} is not white-listed in ${COMPOSE_NAMESPACE}`, where),
        };
      const args = argsOf(inputs);
      if (args === undefined) return { ok: true, value: null };
      const r = await fns.handleCall({ hash, export: exportName, args, namespace: COMPOSE_NAMESPACE, token: '', asOwner: ctx.owner });
      if (!r.ok) return { ok: false, error: composeError('FERRY_COMPOSE_RUNNER', `${r.error.code}: ${r.error.message}`, where) };
      const v = r.value.value;
      return { ok: true, value: typeof v === 'string' ? Number(v) : v };
    },
  };
}
