// What the official Usermaven SDK posts when its data-tracking-host is this site's origin.
import { handle } from '../../../../lib/umbeacon';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const POST = handle;
export const OPTIONS = handle;
