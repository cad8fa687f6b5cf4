/** The dashboard's server-sent-events parser: any events, cut into any chunks, come out whole and in order. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSse } from './live.ts';

const text = fc.string({ maxLength: 40 }).filter((s) => !/[\r\n]/.test(s));
const event = fc.record({
  event: fc.constantFrom('message', 'point', 'alarm', 'end'),
  data: fc.array(text, { minLength: 1, maxLength: 3 }),
  id: fc.option(
    text.filter((s) => s !== ''),
    { nil: undefined },
  ),
});

function serialize(e: { event: string; data: string[]; id: string | undefined }, crlf: boolean): string {
  const nl = crlf ? '\r\n' : '\n';
  const lines = [
    ': a comment',
    ...(e.event === 'message' ? [] : [`event: ${e.event}`]),
    ...(e.id !== undefined ? [`id: ${e.id}`] : []),
    ...e.data.map((d) => `data: ${d}`),
  ];
  return lines.join(nl) + nl + nl;
}

describe('parseSse', () => {
  it('hands on every event with its name, data lines joined and id, however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 30 }), fc.boolean(), (events, cuts, crlf) => {
        const stream = events.map((e) => serialize(e, crlf)).join('');
        const got: { event: string; data: string; id: string | undefined }[] = [];
        let buf = '';
        let at = 0;
        for (const c of [...cuts, stream.length]) {
          const next = Math.min(stream.length, at + c);
          buf = parseSse(buf + stream.slice(at, next), (ev, data, id) => got.push({ event: ev, data, id }));
          at = next;
          if (at === stream.length) break;
        }
        if (at < stream.length) buf = parseSse(buf + stream.slice(at), (ev, data, id) => got.push({ event: ev, data, id }));
        expect(got).toEqual(events.map((e) => ({ event: e.event, data: e.data.join('\n'), id: e.id })));
        expect(buf).toBe('');
      }),
    );
  });

  it('keeps an unfinished event for the next chunk, and ignores comment-only blocks', () => {
    const got: string[] = [];
    const tail = parseSse(': keepalive\n\nevent: point\ndata: {"a":1}\n\nevent: point\ndata: {"a"', (e, d) => got.push(`${e} ${d}`));
    expect(got).toEqual(['point {"a":1}']);
    expect(tail).toBe('event: point\ndata: {"a"');
  });
});
