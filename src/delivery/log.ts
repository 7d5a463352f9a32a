/**
 * Structured logs: one JSON line per notable thing. The relay core only sees the `Logger`
 * interface; where lines go (stdout, a test array) is the adapter's choice.
 *
 * Every line passes through a redactor (every spelling of the configured secrets) as a last line of defence:
 * callers never put the token or the upstream URL in a field, and if one ever slipped in it
 * would still not reach the log.
 */
import { createRedactor } from './redact.ts';

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * A logger writing one JSON object per line: `{"time":…,"level":"info","msg":"listening",…}`.
 *
 * @example
 *   const log = createJsonLogger((line) => process.stdout.write(line), [serverToken]);
 *   log.info('listening', { url: 'http://127.0.0.1:8080' });
 */
export function createJsonLogger(write: (line: string) => void, secrets: readonly string[] = [], now: () => number = Date.now): Logger {
  const hide = createRedactor(secrets.filter((s) => s.length >= 4));
  const emit = (level: string, msg: string, fields?: LogFields) => {
    let line: string;
    try {
      line = JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...fields });
    } catch {
      line = JSON.stringify({ time: new Date(now()).toISOString(), level, msg, note: 'fields were not serializable' });
    }
    write(hide(line) + '\n');
  };
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}
