import { describe, expect, it } from 'vitest';
import { deadLetterOf } from '../../src/delivery/dead-letter.ts';

describe('deadLetterOf', () => {
  const records = [
    JSON.stringify({ event_type: 'q', event_id: 'a', event_attributes: { quotes: '"'.repeat(1000), slashes: '\\'.repeat(1000) } }),
    JSON.stringify({ event_type: 'u', event_id: 'b', s: 'ünïcødé 😀 \u0001 \u2028', lone: '\ud800' }),
  ];

  it.each(records)('embeds the event in the bytes of its record, not escaped again (%#)', (record) => {
    const text = JSON.stringify(deadLetterOf(record, 'upstream answered 400: "no"', 1, 400));
    expect(text).toContain(`"event":${record}}`);
    expect(text.length).toBeLessThan(record.length + 120);
  });

  it('keeps a record that is not JSON as a string, and leaves status out when it has none', () => {
    expect(deadLetterOf('{torn', 'why', 5)).toEqual({ at: 5, reason: 'why', event: '{torn' });
  });
});
