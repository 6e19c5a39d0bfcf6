/**
 * The Capillary stand-in's event notifications: as Capillary's webhook does (capillary-api docs "Consuming event
 * notifications"), one JSON object per POST to the configured URL with the configured static headers
 * (`Authorization`), retried with exponential backoff on 429, 5xx and network failures, never on another 4xx.
 * Shape A (flat); `eventId` only when configured (the documented loyaltyCustomerMerge sample has none). Two changes
 * in one millisecond still have an order; a change made at a set time (the chaos run's Capillary time) keeps it.
 */
import { randomUUID } from 'node:crypto';

import { exponentialDelay, withRetries } from '../../lib/retry/with-retries';
import type { LoyaltyProgram, PointsChangeRecord, TierChangeRecord } from './capillary-loyalty';
import type { MergeRequestRecord } from './capillary-standin';

export interface NotificationTarget {
  url: string;
  /** the static `Authorization` header value, e.g. `Bearer …` */
  authorization: string;
  /** add an `eventId` to every notification (default: only where Capillary's samples have one) */
  withEventId?: boolean;
}

/** One notification and what became of it. */
export interface NotificationDelivery {
  body: Record<string, unknown>;
  attempts: number;
  /** the last answer's status; 0 for a network failure */
  status: number;
  delivered: boolean;
}

/** Capillary's org id in the stand-in's notifications (an org of the bridge is named by its URL, not by this). */
const STAND_IN_ORG_ID = 150014;
const MAX_ATTEMPTS = 8;

export class CapillaryNotifier {
  #target: NotificationTarget | undefined;
  readonly #deliveries: NotificationDelivery[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #usedTimes = new Set<number>();

  constructor(private readonly clock: () => number = Date.now) {}

  configure(target: NotificationTarget | undefined): void {
    this.#target = target;
  }

  get target(): NotificationTarget | undefined {
    return this.#target;
  }

  deliveries(): NotificationDelivery[] {
    return this.#deliveries.map((delivery) => ({ ...delivery }));
  }

  /** Resolves once every notification sent so far was delivered or given up. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  merged(survivor: number, victim: number): void {
    this.#send(mergeNotificationFields(survivor, victim), false);
  }

  /** A merge request's new status as `requestUpdated`, its fields in `data` as the transaction sample has them. */
  mergeRequestUpdated(request: MergeRequestRecord): void {
    this.#send(mergeRequestNotificationFields(request), true);
  }

  deleted(customerId: number, requestId: number): void {
    this.#send(deletionNotificationFields(customerId, requestId), true);
  }

  /** A tier change as `tierUpgraded`, `tierDowngraded` or `tierRenewed` (samples: "Event schema – tier"). */
  tierChanged(change: TierChangeRecord, program: LoyaltyProgram): void {
    const { eventName, ...fields } = tierNotificationFields(change, program);
    this.#send({ eventName, ...fields, apiRequestId: randomUUID() }, true);
  }

  /** More points as `pointsIssued`, fewer as `pointsRedeemed` (samples: "Event schema (payload)"). */
  pointsChanged(change: PointsChangeRecord, program: LoyaltyProgram): void {
    this.#send({ ...pointsNotificationFields(change, program), apiRequestId: randomUUID() }, true);
  }

  #send(fields: Record<string, unknown>, documentedWithEventId: boolean): void {
    const target = this.#target;
    if (target === undefined) return;
    const withEventId = target.withEventId ?? documentedWithEventId;
    const body = {
      ...fields,
      ...(withEventId ? { eventId: randomUUID() } : {}),
      orgId: STAND_IN_ORG_ID,
      createdAt: this.#distinctTime(),
    };
    const delivery: NotificationDelivery = { body, attempts: 0, status: 0, delivered: false };
    this.#deliveries.push(delivery);
    const sending = this.#deliver(target, delivery).finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
  }

  /** The clock's time, or the next free millisecond: two changes never share a time, and a time set on purpose stays. */
  #distinctTime(): number {
    let time = this.clock();
    while (this.#usedTimes.has(time)) time += 1;
    this.#usedTimes.add(time);
    return time;
  }

  async #deliver(target: NotificationTarget, delivery: NotificationDelivery): Promise<void> {
    await withRetries({ maxAttempts: MAX_ATTEMPTS, delayMs: exponentialDelay(100, 5000) }, async () => {
      delivery.attempts += 1;
      try {
        const answer = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: target.authorization },
          body: JSON.stringify(delivery.body),
          signal: AbortSignal.timeout(10_000),
        });
        delivery.status = answer.status;
        await answer.arrayBuffer();
      } catch {
        delivery.status = 0;
      }
      delivery.delivered = delivery.status >= 200 && delivery.status < 300;
      const retriable = delivery.status === 0 || delivery.status === 429 || delivery.status >= 500;
      return delivery.delivered || !retriable ? { done: undefined } : { failed: undefined };
    });
  }
}

const NEW_TIER_FIELD = {
  tierUpgraded: 'upgradedTierNumber',
  tierDowngraded: 'downgradedTierNumber',
  tierRenewed: 'currentTierNumber',
} as const;

/** A customer merge's notification fields but its envelope's time and ids. */
export function mergeNotificationFields(survivor: number, victim: number): Record<string, unknown> {
  return {
    eventName: 'loyaltyCustomerMerge',
    data: {
      survivorCustomerIdentifiers: { customerId: survivor },
      victimCustomerIdentifiers: { customerId: victim },
      triggeringActivity: { name: 'customerMerge', identifiers: [], additionalAttributes: [] },
      enteredBy: { id: -1 },
    },
    refId: `${STAND_IN_ORG_ID}_${victim}`,
    apiRequestId: randomUUID(),
  };
}

/** A merge request's update, shaped as the transaction request's sample (request fields in `data`). */
export function mergeRequestNotificationFields({ id, victimId, status }: MergeRequestRecord): Record<string, unknown> {
  return {
    eventName: 'requestUpdated',
    refId: `${STAND_IN_ORG_ID}_${id}`,
    apiRequestId: randomUUID(),
    data: {
      requestType: 'CHANGE_IDENTIFIER',
      requestBaseType: 'MERGE',
      requestTrackingId: id,
      status,
      comments: 'reviewed by the stand-in',
      customerIdentifiers: { customerId: victimId },
      updatedFields: [{ fieldName: 'status', previousValue: 'PENDING', currentValue: status }],
    },
  };
}

/** The PII deletion request's update as the sample shows it: the request's fields at the top level. */
export function deletionNotificationFields(customerId: number, requestId: number): Record<string, unknown> {
  return {
    eventName: 'requestUpdated',
    requestTrackingId: String(requestId),
    requestType: 'CUSTOMER',
    requestBaseType: 'DELETE',
    comments: 'deleted by the stand-in',
    status: 'APPROVED',
    customerId,
    data: {
      requestId: String(requestId),
      updatedFields: [{ fieldName: 'status', previousValue: 'PENDING', currentValue: 'APPROVED' }],
    },
  };
}

/** A tier notification's fields but its envelope's time and ids, as the current docs' sample writes them. */
export function tierNotificationFields(
  { customerId, previousTierNumber, tierNumber }: TierChangeRecord,
  program: LoyaltyProgram,
): Record<string, unknown> & { eventName: keyof typeof NEW_TIER_FIELD } {
  const eventName =
    tierNumber > previousTierNumber
      ? 'tierUpgraded'
      : tierNumber < previousTierNumber
        ? 'tierDowngraded'
        : 'tierRenewed';
  return {
    eventName,
    refId: `${STAND_IN_ORG_ID}_${customerId}`,
    data: {
      ...customerInProgram(customerId, program),
      ...(eventName === 'tierRenewed' ? {} : { previousTierNumber }),
      [NEW_TIER_FIELD[eventName]]: tierNumber,
      tierExpiryDate: '2126-12-31',
      notes: 'changed by the stand-in',
    },
  };
}

/** A points notification's fields but its envelope's time and ids; `pointsRedeemed` has no sample: the balance only. */
export function pointsNotificationFields(
  { customerId, previousPoints, points }: PointsChangeRecord,
  program: LoyaltyProgram,
): Record<string, unknown> {
  const issued = points > previousPoints;
  return {
    eventName: issued ? 'pointsIssued' : 'pointsRedeemed',
    refId: `${STAND_IN_ORG_ID}_${customerId}`,
    data: {
      ...customerInProgram(customerId, program),
      programCurrentPoints: points,
      ...(issued ? { totalPointsIssued: points - previousPoints, regularPointsIssued: points - previousPoints } : {}),
    },
  };
}

/** The customer and program fields every loyalty notification's `data` starts with. */
function customerInProgram(customerId: number, program: LoyaltyProgram): Record<string, unknown> {
  return {
    customerIdentifiers: { customerId },
    entityInformation: { entityType: 'USER', entityId: customerId },
    loyaltyProgramDetails: {
      id: program.id,
      name: program.name,
      isDefault: true,
      pointsToCurrencyRatio: 1,
      tiers: program.tiers.map(({ tierNumber, tierName }) => ({ tierNumber, tierName })),
    },
    loyaltyProgramId: program.id,
  };
}
