import { trackerLoaded } from './support/browser.ts';
import { expect, test } from './support/test.ts';

// What a checkout holds must stay in the page even when $form and $autocapture are on, in the
// shapes the official SDK's rules miss: a password turned into text by a show-password
// toggle, a card number with dots, a CVC and an expiry known only by their autocomplete, an
// IBAN known only by its checksum (src/tracker/extra/privacy.ts). Every raw body that reached
// the relay or the upstream is searched, each secret with and without its separators.
const SECRETS = {
  password: ['Tr0ub4dor-horse-staple'],
  card: ['4111.1111.1111.1111', '4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111'],
  // Short ones as JSON strings: digits alone turn up in timestamps.
  cvc: ['"7391"'],
  expiry: ['09/31', '"0931"', '09\\/31'],
  iban: ['DE89 3704 0044 0532 0130 00', 'DE89370400440532013000'],
};

test('a submitted checkout sends $form and $autocapture without any of its five secrets', async ({ page, site, outbox, stack, expectUpstream }) => {
  await page.goto(site.url('/checkout.html'));
  await trackerLoaded(page);
  // Each field typed and left fires a change ($autocapture); the submit sends $form.
  const typed: [string, string][] = [
    ['#email', 'ada@example.com'],
    ['#password', 'Tr0ub4dor-horse-staple'],
    ['#number', '4111.1111.1111.1111'],
    ['#code', '7391'],
    ['#valid', '09/31'],
    ['#account', 'DE89 3704 0044 0532 0130 00'],
    ['#note', 'leave at the door'],
  ];
  for (const [id, value] of typed) {
    await page.fill(id, value);
    await page.locator(id).blur();
  }
  await page.click('#show');
  expect(await page.locator('#password').getAttribute('type')).toBe('text');
  await page.click('#pay');
  const [form] = await expectUpstream({ event_type: '$form' });
  await expectUpstream({ event_type: '$autocapture', autocapture_attributes: { attr__name: 'account' } });

  // The form is there, with what is not secret, and each secret field says only that it was withheld.
  const fields = (form!['event_attributes'] as { fields: Record<string, unknown>[] }).fields;
  const value = (name: string) => fields.find((f) => f['name'] === name)?.['value'];
  expect(value('email')).toBe('ada@example.com');
  expect(value('note')).toBe('leave at the door');
  for (const name of ['password', 'number', 'code', 'valid', 'account']) expect(value(name), name).toBe('<redacted>');

  const relayBodies = outbox.map((r) => r.body ?? '');
  const upstreamBodies = stack.upstream.requests.map((r) => r.body);
  expect(relayBodies.join('\n')).toContain('leave at the door');
  expect(upstreamBodies.join('\n')).toContain('leave at the door');
  for (const [name, spellings] of Object.entries(SECRETS))
    for (const spelling of spellings) {
      expect(relayBodies.filter((b) => b.includes(spelling)), `${name} (${spelling}) in a request to the relay`).toEqual([]);
      expect(upstreamBodies.filter((b) => b.includes(spelling)), `${name} (${spelling}) in a request to the upstream`).toEqual([]);
    }
});
