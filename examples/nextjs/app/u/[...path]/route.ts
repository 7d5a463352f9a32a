// /u/s.js (tracker), /u/e (events), /u/p.gif (noscript pixel).
// In your layout: <Script src="/u/s.js" strategy="afterInteractive" /> after the usermaven stub.
import { handle } from '../../../lib/umbeacon';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handle;
export const HEAD = handle;
export const POST = handle;
export const OPTIONS = handle;
