import { BridgeError } from '../../lib/errors';

/**
 * The drift check waited `waitedMs` for one token of the shared Capillary budget (the live workers and the
 * backfill take from it too); a smaller sample needs fewer reads.
 */
export class DriftCheckBudgetError extends BridgeError {
  override readonly name = 'DriftCheckBudgetError';

  /** No cause: the limiter answers "no token before the deadline", it does not fail. */
  constructor(public readonly waitedMs: number) {
    super('no Capillary budget for the drift check; try a smaller --sample');
  }
}
