import { describe, expect, it } from 'vitest';
import { chunks, createQueueSpool, QUEUE_LIMITS } from '../../src/cloudflare/queue-spool.ts';
import { RelayError } from '../../src/relay/errors.ts';
import { silentLogger } from '../../src/delivery/log.ts';

describe('queue spool', () => {
  it.each([
    ['250 small records', Array.from({ length: 250 }, () => '{}'), [100, 100, 50]],
    ['records of 60 KB (four fit in 256 KB)', Array.from({ length: 9 }, () => `"${'x'.repeat(60_000)}"`), [4, 4, 1]],
    ['one record', ['{}'], [1]],
  ])('cuts %s into sendBatch calls within 100 messages and 256 KB', (_, records, sizes) => {
    const out = chunks(records);
    expect(out.map((c) => c.length)).toEqual(sizes);
    expect(out.flat()).toEqual(records);
    for (const c of out) expect(c.reduce((n, r) => n + r.length + QUEUE_LIMITS.messageOverheadBytes, 0)).toBeLessThanOrEqual(QUEUE_LIMITS.batchBytes);
  });

  it('resolves only after every chunk was sent', async () => {
    const sent: number[] = [];
    const spool = createQueueSpool({ send: async () => {}, sendBatch: async (m) => void sent.push([...m].length) }, { logger: silentLogger });
    await spool.append(Array.from({ length: 150 }, () => '{}'));
    expect(sent).toEqual([100, 50]);
  });

  it('turns a failed send into a 503 RelayError', async () => {
    const spool = createQueueSpool({ send: async () => {}, sendBatch: async () => { throw new Error('down'); } }, { logger: silentLogger });
    await expect(spool.append(['{}'])).rejects.toMatchObject({ status: 503, code: 'queue_unavailable' });
    await expect(spool.append(['{}'])).rejects.toBeInstanceOf(RelayError);
  });
});
