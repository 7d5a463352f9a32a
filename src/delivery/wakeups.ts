/**
 * The forwarder's waits and what ends them, on the injected clock only:
 *
 * - `Alarm`: the loop's one sleep at a time. `kick()` (new data) ends an idle sleep and is
 *   remembered otherwise, so a linger or a back-off runs its course; `rouse()` (stop, a drain)
 *   ends any sleep.
 * - `Drains`: the callers of `drain(ms)`, each waiting for an empty spool or its deadline, and
 *   the deadline that cuts back-offs short meanwhile.
 */
import type { Clock } from './clock.ts';

export class Alarm {
  private wake = new AbortController();
  private sleeping: 'idle' | 'busy' | null = null;
  private pending = false;

  constructor(private readonly clock: Clock) {}

  /** New data: ends an idle sleep; otherwise noted for the next look at the spool. */
  kick(): void {
    if (this.pending) return;
    this.pending = true;
    if (this.sleeping === 'idle') this.rouse();
  }

  /** Ends any sleep now. */
  rouse(): void {
    this.wake.abort();
    this.wake = new AbortController();
  }

  /** A kick came since the last `clear()`. */
  get kicked(): boolean {
    return this.pending;
  }

  clear(): void {
    this.pending = false;
  }

  /** Sleep `ms`; `idle` (nothing to send) also ends at a kick. */
  async sleep(ms: number, kind: 'idle' | 'busy'): Promise<void> {
    this.sleeping = kind;
    try {
      await this.clock.sleep(ms, this.wake.signal);
    } finally {
      this.sleeping = null;
    }
  }
}

export class Drains {
  private active = 0;
  private deadline = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly clock: Clock) {}

  get draining(): boolean {
    return this.active > 0;
  }

  /** `ms` cut at the latest drain deadline while draining (a back-off must not outlast it). */
  cap(ms: number): number {
    return this.active > 0 ? Math.min(ms, Math.max(0, this.deadline - this.clock.now())) : ms;
  }

  /** The spool may have changed (a batch done, or empty): every drain looks again. */
  settle(): void {
    for (const wake of this.waiters) wake();
  }

  /** Wait until `done()` says so (asked at each settle) or `ms` have passed on the clock. */
  async wait(ms: number, done: () => boolean): Promise<void> {
    const deadline = this.clock.now() + ms;
    this.active++;
    this.deadline = Math.max(this.deadline, deadline);
    try {
      while (!done() && this.clock.now() < deadline) {
        const woken = new AbortController();
        const wake = () => woken.abort();
        this.waiters.add(wake);
        try {
          await this.clock.sleep(Math.max(0, deadline - this.clock.now()), woken.signal);
        } finally {
          this.waiters.delete(wake);
        }
      }
    } finally {
      this.active--;
    }
  }
}
