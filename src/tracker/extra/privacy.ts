// The privacy rules of the official SDK's autocapture and form tracking, in one place.

/** Nothing under these is captured (the official SDK's classes, and the attribute it declares). */
export const NO_CAPTURE = '.um-no-capture,[data-um-no-capture],.ph-no-capture';

/**
 * Card- or SSN-like: after removing spaces and dashes, 13 to 19 digits (every card number:
 * Visa, Mastercard, Amex, Discover, Diners, JCB) or 9 (a US social security number). Wider
 * than the official SDK's per-network patterns, so it may redact a long order number too.
 */
export const looksSensitive = (v: unknown) => typeof v == 'string' && /^(\d{9}|\d{13,19})$/.test(v.replace(/[- ]/g, ''));

/**
 * Whether an element's value or text may be captured: never under `ph-sensitive` /
 * no-capture, never a hidden or password input, never a field whose name or id reads like a
 * card, a password or an SSN (the official SDK's list, its `sec…` and `soc…` names taken
 * whole), unless it (or an ancestor) is forced with `ph-include` /
 * `data-um-force-capture`.
 */
export const mayCapture = (el: Element) =>
  !el.closest(NO_CAPTURE + ',.ph-sensitive') &&
  (!!el.closest('.ph-include,[data-um-force-capture]') ||
    (!/^(hidden|password)$/i.test((el as HTMLInputElement).type) &&
      !/^cc|card|csc|cvc|cvv|exp|pass|pwd|routing|sec|soc|ssn/i.test(
        ((el as HTMLInputElement).name || el.id || '').replace(/[^a-zA-Z0-9]/g, ''),
      )));
