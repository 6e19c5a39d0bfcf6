import type { BulkRecordOutcome } from '../../capillary/bulk-upsert';
import type { CallOptions } from '../../capillary/http-client';

/** A new follower ready to be registered: their display name as LINE gave it (none when it did not). */
export interface BulkFollower {
  userId: string;
  displayName?: string;
}

/** One bulk call for these followers: one outcome each, in order. */
export type SendInBulk = (followers: BulkFollower[], call: CallOptions) => Promise<BulkRecordOutcome[]>;

interface Joined {
  follower: BulkFollower;
  call: CallOptions;
  settle(outcome: BulkRecordOutcome | undefined): void;
  fail(error: unknown): void;
}

/**
 * One channel's new followers of one batch, met before Capillary. Each candidate (the first follow of a user's
 * group) either joins, once its record is claimed and its registration due, or withdraws (skipped, failed, or a
 * follow that registers nobody). When every candidate has done one or the other, the joined ones go in one bulk
 * call if `pays` says so for their number; otherwise each is told to register on its own (outcome undefined).
 */
export class BulkRound {
  readonly #awaited: Set<string>;
  readonly #joined: Joined[] = [];

  constructor(
    candidates: Iterable<string>,
    private readonly send: SendInBulk,
    private readonly pays: (records: number) => boolean,
  ) {
    this.#awaited = new Set(candidates);
  }

  /** Resolves with this follower's bulk outcome, or undefined when they register on their own. */
  join(follower: BulkFollower, call: CallOptions): Promise<BulkRecordOutcome | undefined> {
    // Not (or no longer) awaited: a second registration of the same user in this batch goes alone.
    if (!this.#awaited.delete(follower.userId)) return Promise.resolve(undefined);
    const outcome = new Promise<BulkRecordOutcome | undefined>((settle, fail) =>
      this.#joined.push({ follower, call, settle, fail }),
    );
    this.#sendWhenComplete();
    return outcome;
  }

  /** This candidate will not join (a no-op once it has). */
  withdraw(userId: string): void {
    if (this.#awaited.delete(userId)) this.#sendWhenComplete();
  }

  #sendWhenComplete(): void {
    if (this.#awaited.size > 0 || this.#joined.length === 0) return;
    const joined = this.#joined.splice(0);
    if (joined.length < 2 || !this.pays(joined.length)) {
      for (const each of joined) each.settle(undefined);
      return;
    }
    // The batch's records share one deadline: any joiner's call options serve the bulk call.
    this.send(
      joined.map(({ follower }) => follower),
      (joined[0] as Joined).call,
    ).then(
      (outcomes) => joined.forEach((each, index) => each.settle(outcomes[index])),
      (error: unknown) => joined.forEach((each) => each.fail(error)),
    );
  }
}
