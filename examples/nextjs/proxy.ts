// Next.js 16's proxy (middleware.ts in Next.js 15 and before): the visitor's id is known on the
// server from the first request, with the cookie the relay and the tracker keep (one
// `__eventn_id`), e.g. to send server-side events for the same visitor (docs/server.md).
import { NextResponse, type NextRequest } from 'next/server';
import { middlewareEnv } from 'umbeacon/next';

export function proxy(req: NextRequest) {
  const res = NextResponse.next();
  const visitor = middlewareEnv(req, res).getAnonymousId({ name: '__eventn_id' });
  res.headers.set('x-visitor-id', visitor);
  return res;
}

// Pages only: not the relay's routes, nor Next's assets.
export const config = { matcher: ['/((?!u/|api/|_next/|favicon.ico).*)'] };
