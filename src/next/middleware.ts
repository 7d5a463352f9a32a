import { ANON_COOKIE, COOKIE_MAX_AGE_S, cookieDomain, visitorCookie, visitorIdFrom } from '../shared/visitor-id.ts';

/** What middlewareEnv reads: a Web/Next request (`NextRequest`, App Router) or Node's (Pages Router, `getServerSideProps`). */
export interface RequestLike {
  headers: Headers | Record<string, string | string[] | undefined>;
  url?: string;
  nextUrl?: URL;
}
/** What it writes the cookie on: a `NextResponse` (its `cookies`, else its headers) or Node's `ServerResponse`. */
export interface ResponseLike {
  cookies?: { set(name: string, value: string, options: Record<string, unknown>): unknown };
  headers?: Headers;
  appendHeader?(name: string, value: string): unknown;
}
export interface ClientProperties {
  screen_resolution: string;
  user_agent: string;
  referer: string;
  url: string;
  page_title: string;
  doc_path: string;
  doc_host: string;
  doc_search: string;
  vp_size: string;
  user_language: string;
  doc_encoding: string;
}

const header = (req: RequestLike, name: string): string => {
  const h = req.headers;
  const v = typeof (h as Headers).get == 'function' ? (h as Headers).get(name) : (h as Record<string, string | string[] | undefined>)[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
};

/**
 * Server side of a Next.js app (middleware, route handlers, `getServerSideProps`), as
 * @usermaven/nextjs's `middlewareEnv`: the visitor's anonymous id, the client's IP and page
 * context. The visitor id follows the relay's rules (src/shared/visitor-id.ts): one
 * `__eventn_id` cookie, whose value the tracker and the relay keep; a request without one gets
 * a new UUID in a `Set-Cookie` with the relay's attributes and its `Domain` rule (`domain` when
 * the host is it or below it, else host-only; the tracker then moves it to the registrable domain,
 * keeping the value). `disableCookies` (cookieless) reads and writes nothing.
 * @example
 * export function middleware(req: NextRequest) {
 *   const res = NextResponse.next();
 *   middlewareEnv(req, res).getAnonymousId({ name: '__eventn_id' });
 *   return res;
 * }
 */
export const middlewareEnv = (req: RequestLike, res: ResponseLike, opts: { disableCookies?: boolean } = {}) => {
  const url = new URL(req.nextUrl ?? req.url ?? '/', 'http://' + (header(req, 'host') || 'localhost'));
  const host = (header(req, 'x-forwarded-host') || header(req, 'host') || url.host).split(',')[0]!.trim();
  const proto = (header(req, 'x-forwarded-proto') || url.protocol.slice(0, -1)).split(',')[0]!.trim();
  return {
    getAnonymousId({ name = ANON_COOKIE, domain }: { name?: string; domain?: string } = {}): string {
      if (opts.disableCookies) return '';
      const known = visitorIdFrom(header(req, 'cookie'), name);
      if (known) return known;
      const id = crypto.randomUUID();
      const secure = proto == 'https';
      const d = cookieDomain(host.replace(/:\d+$/, ''), { configured: domain });
      if (res.cookies) res.cookies.set(name, id, { maxAge: COOKIE_MAX_AGE_S, path: '/', sameSite: 'lax', secure, ...(d ? { domain: d } : {}) });
      else {
        const value = visitorCookie(id, { secure, name, domain: d });
        res.headers ? res.headers.append('Set-Cookie', value) : res.appendHeader?.('Set-Cookie', value);
      }
      return id;
    },
    getSourceIp(): string {
      return (header(req, 'x-forwarded-for') || header(req, 'x-real-ip')).split(',')[0]!.trim();
    },
    describeClient(): ClientProperties {
      return {
        doc_encoding: '',
        doc_host: host,
        doc_path: url.pathname,
        doc_search: url.search,
        page_title: '',
        referer: header(req, 'referer'),
        screen_resolution: '',
        url: `${proto}://${host}${url.pathname}${url.search}`,
        user_agent: header(req, 'user-agent'),
        user_language: header(req, 'accept-language').split(',')[0]!,
        vp_size: '',
      };
    },
  };
};
