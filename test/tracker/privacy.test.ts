import { describe, expect, it } from 'vitest';
import { looksSensitive } from '../../src/tracker/extra/privacy.ts';

// The shape half of the privacy rule of $autocapture and $form (src/tracker/extra/privacy.ts).
describe('looksSensitive', () => {
  it.each([
    ['a card with dots', '4111.1111.1111.1111'],
    ['16 digits that fail the Luhn check (a mistyped card)', '4111.1111.1111.1112'],
    ['a card with spaces', '4111 1111 1111 1111'],
    ['a card with dashes', '5555-5555-5555-4444'],
    ['a card with slashes and underscores', '3782/822463_10005'],
    ['a card without separators', '4012888888881881'],
    ['a 19-digit card', '6222 0200 0000 0000 000'],
    ['an SSN', '078-05-1120'],
    ['an SSN with dots', '078.05.1120'],
    ['an IBAN with spaces', 'DE89 3704 0044 0532 0130 00'],
    ['an IBAN in lower case, no spaces', 'gb82west12345698765432'],
    ['an IBAN with dashes', 'FR14-2004-1010-0505-0001-3M02-606'],
    ['an IBAN with a wrong check digit', 'DE88 3704 0044 0532 0130 00'],
  ])('hides %s', (_, value) => expect(looksSensitive(value)).toBe(true));

  it.each([
    ['a date', '2024-01-15'],
    ['a phone number', '+1 (555) 123-4567'],
    ['a price', '1,299.00'],
    ['a word', 'checkout'],
    ['12 digits', '1234 5678 9012'],
    ['an expiry', '09/31'],
  ])('keeps %s', (_, value) => expect(looksSensitive(value)).toBe(false));
});
