import { BridgeError } from '../../lib/errors';

/**
 * The menu sync waited `waitedMs` for one token of the shared Capillary budget (the live workers and the backfill
 * take from it too): live events come first; a rerun picks up from the start and changes nothing already right.
 */
export class MenuSyncBudgetError extends BridgeError {
  override readonly name = 'MenuSyncBudgetError';

  /** No cause: the limiter answers "no token before the deadline", it does not fail. */
  constructor(public readonly waitedMs: number) {
    super('no Capillary budget for the menu sync; run it again when live traffic is lower');
  }
}
