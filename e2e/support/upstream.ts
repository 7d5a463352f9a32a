/**
 * `expectUpstream`: what reached the fake Usermaven upstream, seen from one test. Like
 * Plausible's `expectPlausibleInAction`, it polls until the expected events arrived and, when
 * they do not, fails with everything the upstream received.
 *
 * One relay and upstream serve all tests of a worker, so each test sees only its own events:
 * every test's browser context carries a unique user-agent suffix (see `test.ts`), which the
 * tracker sends as `user_agent` and the relay keeps.
 */
import type { FakeUpstream } from '../../test/support/fake-upstream.ts';

export type UpstreamEvent = Record<string, unknown>;
/** A deep partial of an event: RegExp tests a string, a function tests any value. */
export type Matcher = { [key: string]: unknown } | ((event: UpstreamEvent) => boolean);

export interface ExpectUpstreamOptions {
  /** Wait for at least this many matching events (default 1). */
  count?: number;
  timeoutMs?: number;
}

export interface ExpectUpstream {
  /** Waits until `count` of this test's events match; returns all matching ones, in arrival order. */
  (matcher: Matcher, options?: ExpectUpstreamOptions): Promise<UpstreamEvent[]>;
  /** This test's events so far, in arrival order, duplicates included. */
  events(): UpstreamEvent[];
  /** A readable dump of this test's events and of every upstream request. */
  describe(): string;
}

export function createExpectUpstream(
  upstream: FakeUpstream,
  isMine: (event: UpstreamEvent) => boolean,
  relayLog?: () => string,
): ExpectUpstream {
  const events = () => upstream.events.filter(isMine);
  const describe = () =>
    [
      `events of this test (${events().length}):`,
      ...events().map((e, i) => `  #${i + 1} ${JSON.stringify(e)}`),
      `upstream: ${upstream.describe()}`,
      ...(relayLog ? ['relay log (last 20 lines):', ...relayLog().trimEnd().split('\n').slice(-20).map((l) => `  ${l}`)] : []),
    ].join('\n');

  const expectUpstream = async (matcher: Matcher, options: ExpectUpstreamOptions = {}) => {
    const count = options.count ?? 1;
    const test = typeof matcher === 'function' ? matcher : (e: UpstreamEvent) => matches(e, matcher);
    const found = () => events().filter(test);
    try {
      await upstream.waitFor(() => found().length >= count, options.timeoutMs ?? 10_000);
    } catch {
      throw new Error(
        `expected ${count} event(s) matching ${describeMatcher(matcher)} at the upstream; ${found().length} arrived\n${describe()}`,
      );
    }
    return found();
  };
  return Object.assign(expectUpstream, { events, describe });
}

/** Deep partial match: every key of `expected` must match in `actual`. */
export function matches(actual: unknown, expected: unknown): boolean {
  if (expected instanceof RegExp) return typeof actual === 'string' && expected.test(actual);
  if (typeof expected === 'function') return Boolean((expected as (v: unknown) => unknown)(actual));
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return false;
    return Object.entries(expected).every(([key, value]) => matches((actual as Record<string, unknown>)[key], value));
  }
  return Object.is(actual, expected);
}

function describeMatcher(matcher: Matcher): string {
  if (typeof matcher === 'function') return matcher.name || 'a predicate';
  return JSON.stringify(matcher, (_key, value: unknown) => (value instanceof RegExp ? String(value) : typeof value === 'function' ? '<fn>' : value));
}
