/**
 * The forwarder's book of what happened upstream: the status `/healthz`, the Node client and the
 * logs read. Only the forwarder writes to it; it logs changes, not every retry.
 */
import type { Clock } from './clock.ts';
import type { Failure } from './deliver.ts';
import type { ForwarderStatus } from './forwarder.ts';
import type { Logger } from './log.ts';
import { problemOf, type UpstreamProblem } from './upstream.ts';

export class StatusBook {
  private readonly status: ForwarderStatus = { state: 'stopped', consecutiveFailures: 0, sentEvents: 0, sentRequests: 0, deadLettered: 0 };

  constructor(
    private readonly host: string,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  snapshot(): ForwarderStatus {
    return { ...this.status };
  }

  get failures(): number {
    return this.status.consecutiveFailures;
  }

  enter(state: ForwarderStatus['state']): void {
    this.status.state = state;
  }

  /** A failure (or a blanket refusal, `problem` 'refusing_all'); returns the failures in a row. */
  failed(result: Failure, problem: UpstreamProblem = problemOf(result)): number {
    const s = this.status;
    s.consecutiveFailures++;
    s.lastError = result.reason;
    // Log changes, not every retry: the first failure, a new status or kind, and then every 10th.
    if (s.consecutiveFailures === 1 || s.lastStatus !== result.status || s.problem !== problem || s.consecutiveFailures % 10 === 0) {
      this.log.warn('upstream failing', { host: this.host, status: result.status, problem, reason: result.reason, failures: s.consecutiveFailures });
    }
    s.problem = problem;
    s.lastStatus = result.status;
    return s.consecutiveFailures;
  }

  accepted(events: number, answered: number): void {
    const s = this.status;
    if (s.consecutiveFailures > 0) this.log.info('upstream recovered', { host: this.host, status: answered, after: s.consecutiveFailures });
    s.consecutiveFailures = 0;
    delete s.problem;
    s.lastStatus = answered;
    s.lastSuccessAt = this.clock.now();
    s.sentEvents += events;
    s.sentRequests++;
  }

  deadLettered(): void {
    this.status.deadLettered++;
  }
}
