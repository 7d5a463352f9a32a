import { expect, test } from './support/test.ts';

test('calls made before u.js loaded arrive in order with the page context of their moment', async ({ page, site, expectUpstream }) => {
  const started = Date.now();
  await page.goto(site.url('/early.html'));
  await expectUpstream({ event_type: /^early_/ }, { count: 2 });
  const early = expectUpstream.events().filter((e) => String(e['event_type']).startsWith('early_'));

  expect(early.map((e) => e['event_type'])).toEqual(['early_first', 'early_second']);
  expect(early[0]).toMatchObject({ doc_path: '/early.html', doc_search: '', page_title: 'Early — step 1', event_attributes: { step: 1 } });
  expect(early[1]).toMatchObject({ doc_path: '/early/step-2', doc_search: '?step=2', page_title: 'Early — step 2', event_attributes: { step: 2 } });
  const [t1, t2] = early.map((e) => Number(e['_timestamp']));
  expect(t1).toBeGreaterThanOrEqual(started - 1000);
  expect(t1).toBeLessThanOrEqual(t2 ?? 0);
});
