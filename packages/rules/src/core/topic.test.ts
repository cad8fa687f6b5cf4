/**
 * @module MQTT topic validation and matching (MQTT 3.1.1 section 4.7), by example and by property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RuleError } from './errors.ts';
import { checkTopicFilter, checkTopicName, topicMatches, topicProblem } from './topic.ts';

describe('topic filters (inputs)', () => {
  it.each(['sensors/+/temp', 'sensors/#', '#', '+', '/', 'a//b', '+/+', 'sport/tennis/+', '$SYS/#'])('accepts %j', (topic) => {
    expect(topicProblem(topic, 'filter')).toBeNull();
  });

  it.each([
    ['', 'at least one character'],
    ['sensors/#/temp', '# must be a whole level'],
    ['sensors#', '# must be a whole level'],
    ['sensors/te+mp', '+ must occupy a whole level'],
    ['a\u0000b', 'U+0000'],
    ['bad\ud800', 'well-formed UTF-8'],
  ])('rejects %j (%s)', (topic, reason) => {
    expect(topicProblem(topic, 'filter')).toContain(reason);
  });

  it('rejects topics longer than 65535 UTF-8 bytes, counting multi-byte characters', () => {
    expect(topicProblem('é'.repeat(32_767), 'filter')).toBeNull(); // 65534 bytes
    expect(topicProblem('é'.repeat(32_768), 'filter')).toContain('65535');
  });

  it('throws a typed error naming the connector path', () => {
    expect(() => checkTopicFilter('a/#/b', 'jobConfig.connectors.input[1]')).toThrow(
      expect.objectContaining({ code: 'FERRY_RULES_TOPIC_INVALID', num: 3005, path: 'jobConfig.connectors.input[1]' }),
    );
  });
});

describe('topic names (outputs)', () => {
  it.each(['alerts/temp', 'a', 'a/b/c'])('accepts %j', (topic) => {
    expect(checkTopicName(topic, 'out')).toBe(topic);
  });

  it.each(['alerts/+', 'alerts/#', '$SYS/x', ''])('rejects %j', (topic) => {
    expect(() => checkTopicName(topic, 'jobConfig.connectors.output')).toThrow(RuleError);
  });
});

describe('topicMatches', () => {
  it.each([
    ['sensors/+/temp', 'sensors/a/temp', true],
    ['sensors/+/temp', 'sensors/a/b/temp', false],
    ['sensors/#', 'sensors', true], // '#' matches the parent level (MQTT 4.7.1.2)
    ['sensors/#', 'sensors/a/b', true],
    ['sensors/#', 'other/a', false],
    ['+', '/', false],
    ['+/+', '/', true],
    ['#', '$SYS/uptime', false], // [MQTT-4.7.2-1]
    ['+/uptime', '$SYS/uptime', false],
    ['$SYS/#', '$SYS/uptime', true],
    ['a/b', 'a/b/', false],
  ])('%j matches %j: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  const level = fc.stringMatching(/^[a-z0-9]{0,4}$/);
  const name = fc.array(level, { minLength: 1, maxLength: 5 }).map((levels) => levels.join('/'));

  it('a topic name is a filter that matches exactly itself', () => {
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(topicMatches(a, a)).toBe(true);
        expect(topicMatches(a, b)).toBe(a === b);
      }),
    );
  });

  it('replacing levels by + or a suffix by # still matches', () => {
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 5 }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), fc.nat(5), (levels, plus, cut) => {
        const topic = levels.join('/');
        fc.pre(topic !== ''); // the empty topic is invalid [MQTT-4.7.3-1]
        const filter = levels.map((item, index) => (plus[index] === true ? '+' : item)).join('/');
        expect(topicProblem(filter, 'filter')).toBeNull();
        expect(topicMatches(filter, topic)).toBe(true);
        const hashed = [...levels.slice(0, Math.min(cut, levels.length)), '#'].join('/');
        expect(topicMatches(hashed, topic)).toBe(true);
      }),
    );
  });
});
