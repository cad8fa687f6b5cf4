import { describe, expect, it } from 'vitest';
import { TopicTable, type Route } from './topic-table.ts';

const route = (filter: string): Route => ({ filter, ack: false, subscribe: false, handle: () => {} });

describe('the intake topic table', () => {
  it('matches MQTT topic filters: + one level, a trailing # any number (and the parent level)', () => {
    const t = new TopicTable();
    const [up, call, ctl] = [route('ferry/up/#'), route('ferry/fn/+/call'), route('ferry/ctl/+/res')];
    for (const r of [up, call, ctl]) t.add(r);
    expect(t.find('ferry/up/th-01/msg')).toBe(up);
    expect(t.find('ferry/up')).toBe(up);
    expect(t.find('ferry/upx/a')).toBeUndefined();
    expect(t.find('ferry/fn/th-01/call')).toBe(call);
    expect(t.find('ferry/fn/th-01/res')).toBeUndefined();
    expect(t.find('ferry/fn/a/b/call')).toBeUndefined();
    expect(t.find('ferry/ctl/gw-1/res')).toBe(ctl);
    expect(t.find('other/up/x')).toBeUndefined();
    expect(t.routes()).toEqual([up, call, ctl]);
  });
  it("treats the filter's other characters literally", () => {
    const t = new TopicTable();
    const r = route('a.b/+/c');
    t.add(r);
    expect(t.find('a.b/x/c')).toBe(r);
    expect(t.find('aXb/x/c')).toBeUndefined();
  });
});
