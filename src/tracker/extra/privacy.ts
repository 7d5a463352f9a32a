// The one privacy rule of `$autocapture` and `$form`: which elements may be read (mayCapture)
// and which values never leave the page (looksSensitive). Both are wider than the official
// SDK's, so u.js never sends what the official's rules meant to hide.

/** Nothing under these is captured (the official SDK's classes, and the attribute it declares). */
export const NO_CAPTURE = '.um-no-capture,[data-um-no-capture],.ph-no-capture';

/**
 * A secret by its shape, whatever separates its characters (spaces, dots, dashes, slashes,
 * underscores): 9 digits (a US social security number), 13 to 19 digits (every card network's
 * length: a card with any separator, `4111.1111.1111.1111`), or an IBAN's two letters, two
 * check digits and 11 to 30 letters or digits. Wider than the official SDK's per-network
 * patterns, which see spaces and dashes only, so a long order number is redacted too. A Luhn
 * or mod-97 check would spare those, for ~80 B of x.js the budget has not got.
 */
export const looksSensitive = (v: string) => /^(\d{9}|\d{13,19}|[A-Z]{2}\d\d[A-Z\d]{11,30})$/i.test(v.replace(/[\s./_-]/g, ''));

/**
 * Whether an element's value or text may be captured: never under `ph-sensitive` /
 * no-capture; unless it (or an ancestor) is forced with `ph-include` / `data-um-force-capture`,
 * never a field whose type, `autocomplete`, name or id reads like a password, a card, a CVC,
 * an expiry, an IBAN, an SSN or a hidden input: `type=password` or `hidden`, `autocomplete`
 * `cc-…` or `…-password`, and a password shown as text by a show-password toggle (its name,
 * id or autocomplete still say so). The words are the official SDK's list (its `sec…` and
 * `soc…` names taken whole), plus `iban` and `hidden`, found in any of those attributes (the
 * official tries the type, then the name, else the id, with separators removed: `c-v-v` would
 * pass here, `cvv`, `cc_num` or `card-number` do not).
 */
export const mayCapture = (el: Element) =>
  !el.closest(NO_CAPTURE + ',.ph-sensitive') &&
  (!!el.closest('.ph-include,[data-um-force-capture]') ||
    !/(^|[\W_])cc|card|csc|cvc|cvv|exp|hidden|iban|pass|pwd|routing|sec|soc|ssn/i.test(
      // join() writes a missing property (a link has no `name`) as nothing.
      [(el as HTMLInputElement).type, (el as HTMLInputElement).autocomplete, (el as HTMLInputElement).name, el.id].join(' '),
    ));
