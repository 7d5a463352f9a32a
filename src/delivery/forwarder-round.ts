/**
 * One round of the forwarder: a spool batch through the delivery engine (`deliver.ts`), judged
 * by the policy (`policy.ts`), and the verdict applied: acknowledge, dead-letter, set suspects
 * aside at the spool's tail, or keep everything and wait. The policy's state between rounds
 * (suspects, refusal pressure) lives here, and only here it changes.
 */
import type { Clock } from './clock.ts';
import { deliverBatch, type DeliveryHooks, type Refusal } from './deliver.ts';
import type { StatusBook } from './forwarder-status.ts';
import type { Logger } from './log.ts';
import {
  afterFailure,
  afterRound,
  arrangeRound,
  blanketReason,
  concurrencyAt,
  eventIdOf,
  INITIAL_STATE,
  judgeRound,
  noteRefusal,
  planRound,
  type Patience,
  type PolicyOptions,
  type RoundPlan,
} from './policy.ts';
import type { Spool } from './spool.ts';
import type { Upstream } from './upstream.ts';

export interface RoundContext {
  spool: Spool;
  upstream: Upstream;
  log: Logger;
  clock: Clock;
  book: StatusBook;
  policy: PolicyOptions;
  /** The forwarder never gives up: every failure is waited out. */
  patience: Pick<Patience, 'retryDelay'>;
  /** Back-off wait, cut short by stop and by a drain's deadline. */
  pause(ms: number): Promise<void>;
}

export class ForwarderRounds {
  private state = INITIAL_STATE;

  constructor(private readonly ctx: RoundContext) {}

  plan(): RoundPlan {
    return planRound(this.state, this.ctx.clock.now(), this.ctx.policy);
  }

  /**
   * Deliver one spool batch: true when it may be acknowledged (everything sent, dead-lettered
   * or set aside again), false when it must be read again (stopped, or refused as a whole).
   */
  async deliver(batch: string[], plan: RoundPlan, signal: AbortSignal): Promise<boolean> {
    const { upstream, clock, book, policy, patience, pause } = this.ctx;
    const round = arrangeRound(this.state, batch, plan);
    const reasons = new Map<number, Refusal>();
    const hooks: DeliveryHooks = {
      send: (body, cut) => upstream.send(body, cut),
      sleep: (ms) => pause(ms),
      signal,
      onFailure: (failure) => {
        const next = afterFailure(failure, book.failed(failure), patience);
        return 'wait' in next ? next.wait : null;
      },
      onAccepted: (from, to, answered) => book.accepted(to - from, answered),
      onRefused: (index, refusal) => {
        reasons.set(index, refusal);
        this.state = noteRefusal(this.state, clock.now());
      },
      // A flood noticed mid-round turns on parallel requests for the rest of it.
      concurrency: () => concurrencyAt(this.state, clock.now(), policy),
      isolationBudget: policy.budget,
    };
    book.enter('sending');
    const first = await deliverBatch(round.records, hooks, round.ranges);
    let verdict = judgeRound(first);
    if (verdict.kind === 'recheck') {
      // Refused before anything was taken: once more each, now that the upstream has taken events.
      const indexes = verdict.indexes;
      verdict = judgeRound(first, { indexes, delivery: await deliverBatch(round.records, hooks, indexes.map((i) => [i, i + 1])) });
    }
    this.state = afterRound(this.state, round.records, verdict);
    switch (verdict.kind) {
      case 'delivered':
        return true;
      case 'refused-all': {
        const attempt = book.failed({ ...verdict.refusal, reason: blanketReason(verdict.refusal, round.records.length) }, 'refusing_all');
        const next = afterFailure(verdict.refusal, attempt, patience);
        if ('wait' in next) await pause(next.wait);
        return false;
      }
      case 'settled': {
        for (const i of verdict.bad) await this.deadLetter(round.records[i]!, reasons.get(i)!);
        if (verdict.unsplit.length > 0) {
          // Suspects the budget left unsplit: to the tail of the spool, so the line keeps moving.
          await this.ctx.spool.append(verdict.unsplit.map((i) => round.records[i]!));
          this.ctx.log.info('refused events set aside', { events: verdict.unsplit.length, reason: verdict.refusal?.reason });
        }
        return true;
      }
      default:
        return false;
    }
  }

  private async deadLetter(record: string, refusal: Refusal): Promise<void> {
    await this.ctx.spool.deadLetter(record, refusal.reason);
    this.ctx.book.deadLettered();
    this.ctx.log.warn('dead letter', { status: refusal.status, reason: refusal.reason, event_id: eventIdOf(record) });
  }
}
