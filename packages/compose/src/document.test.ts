import { describe, expect, it } from 'vitest';
import { ComposeEngine, MemoryStore, compileSO } from './index.ts';

const simple = { channels: { a: { type: 'number', unit: '' } } };
const composite = (cv: unknown, extra: Record<string, unknown> = {}) => ({ channels: { a: { type: 'number', 'current-value': cv } }, ...extra });
const refuse = async (doc: unknown, setup?: (e: ComposeEngine) => Promise<void>) => {
  const e = new ComposeEngine({ store: new MemoryStore(), clock: { now: () => 0 }, limits: { maxDepth: 3, maxFanIn: 3 } });
  await setup?.(e);
  const r = await e.create('so', 'alice', doc);
  return r.ok ? 'accepted' : { code: r.error.code, where: r.error.where };
};

describe('document validation', () => {
  it('names the stream, the channel and the position', async () => {
    expect(await refuse({ streams: { A: simple, B: composite('{$A.channels.a.current-value} +') } })).toEqual({
      code: 'FERRY_COMPOSE_SYNTAX',
      where: { so: 'so', stream: 'B', channel: 'a', position: 31 },
    });
    expect(await refuse({ streams: { A: simple, B: composite('1 + {$C.channels.a.current-value}') } })).toEqual({
      code: 'FERRY_COMPOSE_REFERENCE',
      where: { so: 'so', stream: 'B', channel: 'a', position: 4 },
    });
    expect(await refuse({ streams: { A: simple, B: composite('{$A.channels.a.current-value}', { 'pre-filter': '{$A.lastUpdate} >' }) } })).toMatchObject({
      code: 'FERRY_COMPOSE_SYNTAX',
      where: { stream: 'B', channel: 'pre-filter' },
    });
  });

  it('refuses cycles, and accepts a stream reading its own previous output', async () => {
    expect(
      await refuse({
        streams: { A: simple, B: composite('{$A.channels.a.current-value} + {$C.channels.a.current-value}'), C: composite('{$B.channels.a.current-value}') },
      }),
    ).toMatchObject({ code: 'FERRY_COMPOSE_CYCLE' });
    expect(
      await refuse({
        groups: { g: { soIds: ['so'], stream: 'B' } },
        streams: { A: simple, B: composite('{$A.channels.a.current-value} + {$g.channels.a.current-value}') },
      }),
    ).toBe('accepted');
    expect(await refuse({ streams: { A: simple, B: composite('{$A.channels.a.current-value} + {$B.channels.a.current-value}') } })).toBe('accepted');
  });

  it('enforces depth and fan-in limits', async () => {
    const chain = {
      A: simple,
      B: composite('{$A.channels.a.current-value}'),
      C: composite('{$B.channels.a.current-value}'),
      D: composite('{$C.channels.a.current-value}'),
    };
    expect(await refuse({ streams: chain })).toBe('accepted');
    expect(await refuse({ streams: { ...chain, E: composite('{$D.channels.a.current-value}') } })).toMatchObject({
      code: 'FERRY_COMPOSE_LIMIT',
      where: { stream: 'E' },
    });
    const wide = { A: simple, B: simple, C: simple, D: simple };
    expect(await refuse({ streams: { ...wide, X: composite('{$A.lastUpdate}+{$B.lastUpdate}+{$C.lastUpdate}+{$D.lastUpdate}') } })).toMatchObject({
      code: 'FERRY_COMPOSE_LIMIT',
    });
  });

  it('refuses malformed documents, bad types, oversized expressions, unknown group members, missing runners', async () => {
    expect(await refuse([])).toMatchObject({ code: 'FERRY_COMPOSE_DOCUMENT' });
    expect(await refuse({ streams: 1 })).toMatchObject({ code: 'FERRY_COMPOSE_DOCUMENT' });
    expect(await refuse({ version: '0.3.0', streams: {} })).toMatchObject({ code: 'FERRY_COMPOSE_DOCUMENT' });
    expect(await refuse({ streams: { A: { channels: { a: { type: 'complex' } } } } })).toMatchObject({
      code: 'FERRY_COMPOSE_TYPE',
      where: { stream: 'A', channel: 'a' },
    });
    expect(await refuse({ streams: { A: simple, B: composite(`{$A.lastUpdate}${'+1'.repeat(3000)}`) } })).toMatchObject({ code: 'FERRY_COMPOSE_TOO_LARGE' });
    expect(await refuse({ groups: { g: { soIds: ['nobody'], stream: 'x' } }, streams: { B: composite('{$g.channels.a.current-value}') } })).toMatchObject({
      code: 'FERRY_COMPOSE_REFERENCE',
    });
    expect(await refuse({ streams: { A: simple, B: composite('function(A){return 1}') } })).toMatchObject({ code: 'FERRY_COMPOSE_NO_RUNNER' });
    expect(await refuse({ streams: { A: simple, B: composite({ fn: 'ab'.repeat(32), export: 'f' }) } })).toMatchObject({ code: 'FERRY_COMPOSE_NO_RUNNER' });
    expect(await refuse({ streams: { A: simple, B: composite({ fn: 'xyz', export: 'f' }) } })).toMatchObject({ code: 'FERRY_COMPOSE_DOCUMENT' });
    expect(await refuse({ streams: { A: simple, B: composite('function(Q){return 1}') } })).toMatchObject({ code: 'FERRY_COMPOSE_REFERENCE' });
    expect(await refuse({ streams: { B: composite('1 + 1') } })).toMatchObject({ code: 'FERRY_COMPOSE_REFERENCE' });
    expect(await refuse({ streams: { A: simple } }, async (e) => void (await e.create('so', 'bob', { streams: { A: simple } })))).toMatchObject({
      code: 'FERRY_COMPOSE_EXISTS',
    });
  });

  it('reads Ferry fields: owner, grants, tokens, actions', () => {
    const r = compileSO(
      'so',
      { owner: 'alice', grants: [{ stream: 'A', to: { owner: 'bob' } }], tokens: ['pub-1'], actions: [], streams: { A: simple } },
      'alice',
    );
    expect(r.ok && [r.value.grants, r.value.tokens]).toEqual([[{ stream: 'A', to: { owner: 'bob' } }], ['pub-1']]);
    expect(compileSO('so', { owner: 'mallory', streams: {} }, 'alice').ok).toBe(false);
    expect(compileSO('so', { grants: [{ stream: 'Z', to: { owner: 'bob' } }], streams: { A: simple } }, 'alice').ok).toBe(false);
  });
});
