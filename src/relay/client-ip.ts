/**
 * Which address is the client's. By default the socket peer, and forwarding headers are
 * ignored: anyone can send `X-Forwarded-For`. Behind a proxy, `TRUST_PROXY` says which hops
 * to believe, and the client is the right-most address in the chain that is not trusted —
 * proxies append, so everything left of the first untrusted hop could be forged
 * (MDN "X-Forwarded-For", Security and privacy concerns).
 *
 * TRUST_PROXY grammar (comma-separated):
 *   `false` / empty       trust nothing (default)
 *   `N` (1, 2 …)          trust the N nearest hops, whatever their addresses
 *   `loopback`            127.0.0.0/8 and ::1
 *   `private`             10/8, 172.16/12, 192.168/16, fc00::/7, fe80::/10, and loopback
 *   an IP or CIDR         e.g. `10.1.2.3`, `10.0.0.0/8`, `2001:db8::/32`
 */

export interface TrustProxy {
  /** Trust this many nearest hops regardless of address (0 = use the address rules only). */
  hops: number;
  /** Is this (normalized) address a trusted proxy? */
  trusts(address: string): boolean;
  /** True when any rule is set; forwarding headers are only read then. */
  enabled: boolean;
}

export const trustNothing: TrustProxy = { hops: 0, trusts: () => false, enabled: false };

/** Parse a TRUST_PROXY value; throws an Error with a one-line reason on a bad entry. */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const raw = (value ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0' || raw === 'off' || raw === 'none') return trustNothing;
  let hops = 0;
  const rules: ((address: string) => boolean)[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (/^\d+$/.test(item)) hops = Math.max(hops, Number(item));
    else if (item === 'true') throw new Error('TRUST_PROXY=true would believe any forged X-Forwarded-For; give a hop count (e.g. 1) or the proxy addresses');
    else if (item === 'loopback') rules.push(cidr('127.0.0.0/8'), cidr('::1/128'));
    else if (item === 'private') {
      for (const c of ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10']) rules.push(cidr(c));
    } else rules.push(cidr(item.includes('/') ? item : `${item}/${item.includes(':') ? 128 : 32}`));
  }
  return { hops, trusts: (address) => rules.some((r) => r(address)), enabled: true };
}

/**
 * The one trust rule: is the address at `hop` (0 = the socket peer, 1 = the hop it forwarded
 * for, …) a proxy `TRUST_PROXY` names? The request context, the client address and the
 * per-address connection cap all ask this, so they cannot disagree.
 */
export function trustsHop(trust: TrustProxy, address: string, hop = 0): boolean {
  return trust.enabled && (hop < trust.hops || trust.trusts(address));
}

/**
 * The client address: the socket peer, or, when the peer is trusted, walk the
 * `X-Forwarded-For` chain from the right and stop at the first untrusted hop.
 */
export function clientAddress(remote: string | undefined, forwardedFor: string | null, trust: TrustProxy): string | undefined {
  const peer = remote ? normalize(remote) : undefined;
  if (!trust.enabled || !peer) return peer;
  const chain = (forwardedFor ?? '').split(',').map((s) => normalize(s.trim())).filter((s) => s.length > 0);
  chain.push(peer);
  let hop = 0;
  for (let i = chain.length - 1; i >= 0; i--, hop++) {
    const address = chain[i]!;
    if (!trustsHop(trust, address, hop) || i === 0) return address;
  }
  return peer;
}

/** Strip IPv4-mapped prefixes (`::ffff:1.2.3.4`), brackets and ports. */
export function normalize(address: string): string {
  let a = address.trim();
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracket) a = bracket[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (a.toLowerCase().startsWith('::ffff:') && a.includes('.')) a = a.slice(7);
  return a.toLowerCase();
}

function cidr(spec: string): (address: string) => boolean {
  const [base, bitsText] = spec.split('/');
  const bits = Number(bitsText);
  const baseBytes = parseIp(base ?? '');
  if (!baseBytes || !Number.isInteger(bits) || bits < 0 || bits > baseBytes.length * 8) {
    throw new Error(`TRUST_PROXY: "${spec}" is not an IP address, CIDR range, hop count, "loopback" or "private"`);
  }
  return (address) => {
    const bytes = parseIp(address);
    if (!bytes || bytes.length !== baseBytes.length) return false;
    for (let i = 0; i < bits; i++) {
      const mask = 0x80 >> (i % 8);
      if ((bytes[i >> 3]! & mask) !== (baseBytes[i >> 3]! & mask)) return false;
    }
    return true;
  };
}

function parseIp(text: string): number[] | null {
  const a = normalize(text);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) {
    const parts = a.split('.').map(Number);
    return parts.every((p) => p <= 255) ? parts : null;
  }
  if (!a.includes(':') || !/^[0-9a-f:.]+$/.test(a)) return null;
  const halves = a.split('::');
  if (halves.length > 2) return null;
  const words = (s: string) => (s ? s.split(':') : []);
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const all = [...head, ...Array<string>(fill).fill('0'), ...tail];
  const bytes: number[] = [];
  for (const w of all) {
    if (!/^[0-9a-f]{1,4}$/.test(w)) return null;
    const n = parseInt(w, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  return bytes;
}
