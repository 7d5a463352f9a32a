import { trackerLoaded } from './support/browser.ts';
import { expect, ofType, test } from './support/test.ts';

test('three pushState navigations and one back send exactly four more pageviews', async ({ page, site, expectUpstream }) => {
  await page.goto(site.url('/spa.html'));
  await trackerLoaded(page);
  await expectUpstream({ event_type: 'pageview', doc_path: '/spa.html' });

  // A person reads each page before the next click. Without these waits, on a loaded machine
  // the back can land before the tracker's next task (the tracker rightly counts a
  // push-then-pop within one task as a redirect that settled on /spa/settings), and the
  // pageviews leave in requests of their own that may reach the relay out of order: the
  // relay puts `_timestamp` on its receive clock, so their order upstream is not the clicks'.
  for (const [i, link] of ['Inbox', 'Settings', 'Billing'].entries()) {
    await page.click(`text=${link}`);
    await expectUpstream({ event_type: 'pageview' }, { count: i + 2 });
  }
  await page.goBack();
  await expect(page.locator('#view')).toHaveText('/spa/settings');

  await expectUpstream({ event_type: 'pageview' }, { count: 5 });
  // Nothing more comes for those navigations: a later event arrives after exactly five.
  await page.evaluate(() => window.usermaven.track('sentinel'));
  await expectUpstream({ event_type: 'sentinel' });
  const pageviews = ofType(expectUpstream.events(), 'pageview').sort((a, b) => Number(a['_timestamp']) - Number(b['_timestamp']));
  expect(pageviews.map((e) => `${e['doc_path']}${e['doc_search']}`)).toEqual([
    '/spa.html',
    '/spa/inbox',
    '/spa/settings',
    '/spa/billing?tab=invoices',
    '/spa/settings',
  ]);
  expect(pageviews[3]).toMatchObject({ url: site.url('/spa/billing?tab=invoices') });
});
