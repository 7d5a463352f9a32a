/**
 * The relay's answers before they become a WHATWG `Response`: status, headers, a body held in
 * memory. Callers of the handler always get a real `Response` (`toResponse`); an adapter that
 * writes to a socket itself asks for the `Reply` (`RelayHandler#reply`) and skips the
 * `Response`, because building one with a body sets up a `ReadableStream` and reading it back
 * takes several more — measured at ~35 µs per small JSON answer on the dev VM, close to half
 * of what the relay spent on a whole beacon. (@hono/node-server avoids the same cost with a
 * lightweight Response; here the core simply answers with plain data.)
 */
export class Reply {
  constructor(
    readonly status: number,
    /** Lower-case names; values as they go on the wire. */
    readonly headers: Record<string, string>,
    readonly body: string | Uint8Array | null = null,
    /** `Set-Cookie` values, one per cookie: unlike other fields they cannot be joined with ", " (RFC 6265 §3). */
    readonly cookies: readonly string[] = [],
  ) {}
}

export function toResponse(answer: Reply | Response): Response {
  if (!(answer instanceof Reply)) return answer;
  const headers = new Headers(answer.headers);
  for (const cookie of answer.cookies) headers.append('set-cookie', cookie);
  return new Response(answer.body as BodyInit | null, { status: answer.status, headers });
}

/** `{"…":…}` with the JSON content type; never cached (answers about one request). */
export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return new Reply(status, headers ? { ...JSON_HEADERS, ...headers } : { ...JSON_HEADERS }, JSON.stringify(body));
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } as const;
