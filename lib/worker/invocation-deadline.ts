/**
 * The time left in the current Lambda invocation, shared by everything that retries. Retrying past it
 * would only get the invocation killed mid-call; stopping first lets the batch report its failures
 * cleanly, and SQS retries them.
 */
export class InvocationDeadline {
  #at = Number.POSITIVE_INFINITY;

  /** @param remainingMs from context.getRemainingTimeInMillis(); @param reserveMs kept for recording results */
  start(remainingMs: number, reserveMs: number): void {
    this.#at = Date.now() + remainingMs - reserveMs;
  }

  remainingMs(): number {
    return this.#at - Date.now();
  }
}
