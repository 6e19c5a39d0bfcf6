import { BridgeError } from '../errors';

/**
 * The integration URL kept failing transiently (429, 5xx, unreachable, timeouts) or the invocation ran out of
 * time: the event is retried later (SQS, then the DLQ), like any event.
 */
export class BehaviouralEventsUnavailableError extends BridgeError {
  override readonly name = 'BehaviouralEventsUnavailableError';

  constructor(
    public readonly eventName: string,
    public readonly attempts: number,
    public readonly lastProblem: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Capillary behavioural event ${eventName} not posted after ${attempts} attempts (last: ${lastProblem})`,
      options,
    );
  }
}

/**
 * The integration URL refuses the bridge's credentials (401 / 403): no event can be posted until they are fixed,
 * so events are kept (SQS retries, then the DLQ for a redrive) instead of acknowledged as refused.
 */
export class BehaviouralEventsCredentialsError extends BridgeError {
  override readonly name = 'BehaviouralEventsCredentialsError';

  constructor(
    public readonly status: number,
    public readonly requestId: string | undefined,
  ) {
    super(
      `Capillary refused the behavioural events credentials: HTTP ${status} ` +
        '(check CAPILLARY_BEHAVIOURAL_EVENTS_CREDENTIALS and the integration URL)',
    );
  }
}
