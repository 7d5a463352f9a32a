/**
 * What a page's privacy settings ask of the relay. Both the official SDK
 * (`/api/v1/event?token=…&cookie_policy=strict&ip_policy=strict`) and u.js (the same
 * parameters on its collect URL, by their short names `c` and `i`) send them, from
 * `data-privacy-policy`, `data-cookie-policy` and `data-ip-policy`:
 *
 * - `cookie_policy`: `keep` (default) re-issues the visitor cookie; `strict` (cookieless) and
 *   `comply` (strict for visitors where consent is required, which the relay cannot tell)
 *   set no cookie.
 * - `ip_policy`: `keep` (default) keeps the address; `strict` drops it; `comply` truncates
 *   it (IPv4 to /24, IPv6 to /48), which keeps the country and drops the person.
 *
 * Both are passed on to Usermaven in each event (`cookie_policy`, `ip_policy`), as the
 * official SDK passes them to its collector. (The cookie's Domain, when one is set, is
 * src/shared/visitor-id.ts's rule.)
 */
export type Policy = 'keep' | 'strict' | 'comply';

export interface PagePolicy {
  cookie: Policy;
  ip: Policy;
}

const policy = (v: string | null): Policy => (v === 'strict' || v === 'comply' ? v : 'keep');

export function pagePolicy(url: URL): PagePolicy {
  const q = url.searchParams;
  return { cookie: policy(q.get('cookie_policy') ?? q.get('c')), ip: policy(q.get('ip_policy') ?? q.get('i')) };
}

/** The address Usermaven may see under this policy. */
export function applyIpPolicy(ip: string | undefined, p: Policy): string | undefined {
  if (!ip || p === 'keep') return ip;
  if (p === 'strict') return undefined;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return ip.replace(/\.\d+$/, '.0');
  // IPv6: the first three groups (a /48), the rest zero. `::` shortcuts expand first.
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return `${groups.slice(0, 3).map((g) => g || '0').join(':')}::`;
}
