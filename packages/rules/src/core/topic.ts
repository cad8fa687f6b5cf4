/**
 * @module MQTT topic names (rule outputs) and topic filters (rule inputs): validation and matching.
 *
 * Follows MQTT 3.1.1 section 4.7 (unchanged in MQTT 5), so a connector the engine accepts is one any
 * broker accepts too.
 */
import { RuleError } from './errors.ts';

const MAX_UTF8_BYTES = 65_535; // [MQTT-4.7.3-3]

/** UTF-8 length, or -1 for an unpaired surrogate (not well-formed UTF-8, [MQTT-1.5.3-1]). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return -1;
      bytes += 4;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return -1;
    else bytes += 3;
  }
  return bytes;
}

/** Why `topic` is not a valid topic filter (wildcards allowed) or name, or null when it is. */
export function topicProblem(topic: string, kind: 'filter' | 'name'): string | null {
  if (topic.length === 0) return 'must be at least one character long [MQTT-4.7.3-1]';
  if (topic.includes('\u0000')) return 'must not contain U+0000 [MQTT-4.7.3-2]';
  const bytes = utf8Length(topic);
  if (bytes < 0) return 'must be well-formed UTF-8 [MQTT-1.5.3-1]';
  if (bytes > MAX_UTF8_BYTES) return `must be at most ${MAX_UTF8_BYTES} UTF-8 bytes [MQTT-4.7.3-3]`;
  if (kind === 'name') {
    if (topic.includes('+') || topic.includes('#')) return 'is an output topic name and must not contain + or # [MQTT-4.7.1-1]';
    // $-topics belong to the broker ($SYS/...); a rule publishing there is a mistake.
    if (topic.startsWith('$')) return 'must not start with $ (reserved for the broker, MQTT 4.7.2)';
    return null;
  }
  const levels = topic.split('/');
  for (const [index, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || index !== levels.length - 1)) {
      return '# must be a whole level and the last one [MQTT-4.7.1-2]';
    }
    if (level.includes('+') && level !== '+') return '+ must occupy a whole level [MQTT-4.7.1-3]';
  }
  return null;
}

export function checkTopicFilter(topic: string, path: string): string {
  const problem = topicProblem(topic, 'filter');
  if (problem !== null) throw new RuleError('FERRY_RULES_TOPIC_INVALID', `${path} ${JSON.stringify(topic)} ${problem}`, { path });
  return topic;
}

export function checkTopicName(topic: string, path: string): string {
  const problem = topicProblem(topic, 'name');
  if (problem !== null) throw new RuleError('FERRY_RULES_TOPIC_INVALID', `${path} ${JSON.stringify(topic)} ${problem}`, { path });
  return topic;
}

/** Whether a published topic name matches a (valid) topic filter, per MQTT 3.1.1 section 4.7. */
export function topicMatches(filter: string, topic: string): boolean {
  // [MQTT-4.7.2-1]: a filter starting with a wildcard does not match $-topics.
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i];
    // '#' also matches the parent level: 'sport/#' matches 'sport' (MQTT 4.7.1.2).
    if (level === '#') return true;
    const actual = topicLevels[i];
    if (actual === undefined) return false;
    if (level !== '+' && level !== actual) return false;
  }
  return filterLevels.length === topicLevels.length;
}
