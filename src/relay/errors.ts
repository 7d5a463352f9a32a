/**
 * Typed errors of the relay and the one place that turns them into answers (`Reply`/`Response`).
 * Messages are written for the person reading the 4xx body: what is wrong and, where it
 * helps, what to send instead. No message ever carries the token or the upstream URL.
 */
import { json, toResponse, type Reply } from './reply.ts';
import { SpoolFullError, SpoolUnavailableError } from '../delivery/spool.ts';

export class RelayError extends Error {
  constructor(
    readonly status: number,
    /** Stable machine-readable reason, also the key of the reject counters in logs. */
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

export const badRequest = (code: string, message: string) => new RelayError(400, code, message);

/** JSON body `{"status":"error","error":code,"message":…}` with the error's status. */
export function errorReply(error: unknown, route: string): Reply {
  if (error instanceof RelayError) return json(error.status, { status: 'error', error: error.code, message: error.message, route }, error.headers);
  if (error instanceof SpoolFullError) {
    return json(503, { status: 'error', error: 'spool_full', message: error.message, route }, { 'retry-after': '30' });
  }
  // Disk full or failing: nothing was stored, and the spool heals by itself once it can write.
  if (error instanceof SpoolUnavailableError) {
    return json(503, { status: 'error', error: 'storage_unavailable', message: error.message, route }, { 'retry-after': '10' });
  }
  return json(500, { status: 'error', error: 'internal', message: 'the relay failed to store the events; retry later', route });
}

/** `errorReply` as a WHATWG `Response`. */
export function errorResponse(error: unknown, route: string): Response {
  return toResponse(errorReply(error, route));
}

/** Which reason a failure counts under in logs and /healthz. */
export function errorCode(error: unknown): string {
  if (error instanceof RelayError) return error.code;
  if (error instanceof SpoolFullError) return 'spool_full';
  if (error instanceof SpoolUnavailableError) return 'storage_unavailable';
  return 'internal';
}
