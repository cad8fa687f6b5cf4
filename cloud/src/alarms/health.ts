/**
 * @module Health events as alarm transitions (docs/operations.md "Alarms", built-in alarms): a component whose
 * restarts keep failing raises `component-failing` (major, source `component:<name>`, global) until it
 * recovers; a device that went offline raises `device-offline` (warning, source the device id, for the
 * device's owner) until it is back online.
 */
import type { AlarmTransition } from '@ferry/rules';
import type { NotifyEvent } from '../notify/types.ts';

/** The rule name health transitions carry (no alarm rule has it: rule ids are `ar-...`). */
export const HEALTH_RULE = 'health';

export function healthTransition(
  e: NotifyEvent,
  ownerOf: (device: string) => string | undefined,
): { readonly owner: string | undefined; readonly t: AlarmTransition } | undefined {
  const base = { atMs: e.at, rule: HEALTH_RULE };
  const why = typeof e.data['reason'] === 'string' ? e.data['reason'] : undefined;
  switch (e.kind) {
    case 'component.failing':
    case 'component.recovered':
      return {
        owner: undefined,
        t: {
          ...base,
          kind: e.kind === 'component.failing' ? 'raise' : 'clear',
          type: 'component-failing',
          source: `component:${e.source}`,
          severity: 'major',
          reason: why ?? (e.kind === 'component.failing' ? `${e.source}: restarts keep failing` : `${e.source} recovered`),
        },
      };
    case 'device.offline':
    case 'device.online': {
      const gateway = e.source.split('/')[0] ?? e.source;
      return {
        owner: e.owner ?? ownerOf(e.source) ?? ownerOf(gateway),
        t: {
          ...base,
          kind: e.kind === 'device.offline' ? 'raise' : 'clear',
          type: 'device-offline',
          source: e.source,
          severity: 'warning',
          reason: why ?? (e.kind === 'device.offline' ? `${e.source} went silent` : `${e.source} is back`),
        },
      };
    }
    default:
      return undefined;
  }
}
