// JSON storage that never throws: localStorage when the browser lets us use it, this
// page's memory otherwise. localStorage throws a SecurityError when site data is blocked
// (Chrome "block all cookies", sandboxed iframes) and QuotaExceededError when full.
// localStorage is read on every call, not cached, so the tabs of a site share user,
// consent and outbox. Values are serialized before they are stored, also in memory: a
// value that cannot be (a cycle, a BigInt) fails in the caller, and what is kept is a
// snapshot that later changes to the page's objects do not alter.
import { stringify } from './json.ts';

const mem: Record<string, string> = {};

/** Reads a stored value; nullish (null or undefined) when absent, unreadable or corrupted. */
export const load = (k: string): any => {
  try {
    // This page's copy first: it exists only while localStorage refuses writes (blocked or
    // full), and then it is the newer one. JSON.parse(null) is null.
    return JSON.parse(mem[k] ?? localStorage.getItem(k)!);
  } catch {
    // blocked and never written, or another script wrote garbage under our key: undefined
  }
};

/** Stores a value; `null` clears it. Throws only for a value JSON cannot hold. */
export const save = (k: string, v: unknown) => {
  const json = stringify(v);
  try {
    delete mem[k];
    localStorage.setItem(k, json);
  } catch {
    mem[k] = json;
  }
};

/** Storage keys, short because every byte of u.js counts. */
export const USER = 'um_u', COMPANY = 'um_c', OUTBOX = 'um_o', CONSENT = 'um_x';
/** Super properties (`set`): `{ "": global, [eventType]: per type }`; the cookie domain found, the anonymous id reset(true) retired (id.ts). */
export const PROPS = 'um_p', DOMAIN = 'um_d', RETIRED = 'um_r';
