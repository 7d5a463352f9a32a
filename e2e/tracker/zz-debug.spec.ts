import { expect, names, test } from './fixture.ts';
test('DEBUGX closed offline', async ({ context, site }) => {
  const first = await context.newPage();
  first.on('console', m => console.log('first:', m.text().slice(0,120))); await first.goto(site.page('/index.html', {'data-debug':'true'}));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await context.setOffline(true);
  await first.waitForFunction(() => !navigator.onLine);
  await first.evaluate(() => window.usermaven.track('closed_offline')); console.log('outbox', await first.evaluate(() => localStorage.getItem('um_o')));
  // Every event waits in the outbox from the moment it is tracked: closing needs no unload
  // handler. (A close that runs them would leave the page alive a moment, and it would see
  // the 'online' below and send itself.)
  await first.close();
  await context.setOffline(false);

  const next = await context.newPage();
  next.on('console', m => console.log('next:', m.text().slice(0,120))); await next.goto(site.page('/next.html', {'data-debug':'true'}));
  await site.expectEvents((e) => e.event_type === 'closed_offline');
  await site.expectEvents((e) => e.doc_path === '/next.html');
  expect(names(site.events()).sort()).toEqual(['closed_offline', 'pageview', 'pageview']);
});

