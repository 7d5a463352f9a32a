// JSON storage that never throws: localStorage when the browser lets us use it, this
// page's memory otherwise. localStorage throws a SecurityError when site data is blocked
// (Chrome "block all cookies", sandboxed iframes) and QuotaExceededError when full.
// localStorage is read on every call, not cached, so the tabs of a site share user,
// consent and outbox.
const mem: Record<string, unknown> = {};

/** Reads a stored value; null when absent, unreadable or corrupted. */
export const load = (k: string): any => {
  try {
    return JSON.parse(localStorage.getItem(k)!); // JSON.parse(null) is null
  } catch {
    return mem[k] ?? null; // storage blocked, or another script wrote garbage under our key
  }
};

/** Stores a value; `null` clears it. */
export const save = (k: string, v: unknown) => {
  try {
    localStorage.setItem(k, JSON.stringify(v));
  } catch {
    mem[k] = v;
  }
};

/** Storage keys, short because every byte of u.js counts. */
export const USER = 'um_u', COMPANY = 'um_c', OUTBOX = 'um_o', CONSENT = 'um_x';
