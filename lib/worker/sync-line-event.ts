import type { LineCustomerDirectory } from '../capillary/line-customers';
import { type LineEventFacts, type SubscriptionState, decide, ignoreReason } from '../domain/sync-rules';
import { eventUserId } from '../line/callback';
import type { LineProfileClient } from '../line/profile-client';
import type { QueuedLineEvent } from '../queue/line-event-message';
import type { UserSyncStore } from '../store/user-sync-store';
import type { InvocationDeadline } from './invocation-deadline';
import { MetricUnit, countIgnored, logger, maskUserId, metrics } from '../observability/telemetry';

export interface SyncDeps {
  deadline: InvocationDeadline;
  store: UserSyncStore;
  customers: LineCustomerDirectory;
  profiles: LineProfileClient;
}

export type SyncOutcome =
  | { result: 'applied'; action: string; customerId?: number; subscription: SubscriptionState }
  | { result: 'skipped'; reason: 'duplicate' | 'stale' }
  | { result: 'ignored'; reason: 'unsupported-type' | 'no-user-id' };

function factsOf({ event }: QueuedLineEvent): LineEventFacts {
  return {
    type: event.type,
    webhookEventId: event.webhookEventId,
    timestamp: event.timestamp,
    userId: eventUserId(event),
    isUnblocked: event.follow?.isUnblocked,
  };
}

/**
 * One queued LINE event → at most one change of the user's Capillary state, in order, once.
 * Claim the user's record (rejecting duplicates and stale events), act on Capillary, then record
 * what was applied. A throw leaves the claim to be resumed by the retry.
 */
export async function syncLineEvent(message: QueuedLineEvent, deps: SyncDeps): Promise<SyncOutcome> {
  const facts = factsOf(message);
  const log = { eventId: facts.webhookEventId, type: facts.type, user: maskUserId(facts.userId) };
  const ignored = ignoreReason(facts);
  if (ignored) {
    countIgnored(facts.type);
    logger.info('Event acknowledged without side effects', { ...log, reason: ignored });
    return { result: 'ignored', reason: ignored };
  }
  const key = { destination: message.destination, userId: facts.userId as string };
  const claim = await deps.store.claim(key, facts);
  if (!claim.claimed) {
    metrics.addMetric(claim.reason === 'duplicate' ? 'EventSkippedDuplicate' : 'EventSkippedStale', MetricUnit.Count, 1);
    logger.info(`Event skipped as ${claim.reason}: not newer than the last applied event for this user`, {
      ...log, eventTimestamp: facts.timestamp, lastAppliedTimestamp: claim.state.lastEventTimestamp,
    });
    return { result: 'skipped', reason: claim.reason };
  }
  logger.info('Event claimed', log);

  const decision = decide(facts, claim.state);
  let customerId: number | undefined;
  switch (decision.action) {
    case 'register': {
      const profile = await deps.profiles.lookup(key.userId);
      if (!profile.found) logger.info('LINE profile unavailable; registering without a name', { ...log, reason: profile.reason });
      const registration = await deps.customers.register(key.userId, profile.found ? profile.displayName : undefined);
      customerId = registration.customerId;
      // Capillary pitfalls §14: merges across sources are worth an audit trail.
      if (registration.merged) logger.info('Capillary merged the LINE profile into an existing customer (8050)', { ...log, customerId });
      if (!registration.subscribed) await deps.customers.setSubscription(customerId, decision.subscription);
      break;
    }
    case 'subscribe':
      customerId = decision.customerId;
      await deps.customers.setSubscription(customerId, decision.subscription);
      break;
    case 'resolve-then-subscribe':
      // An unfollow is never lost: opt the customer out if Capillary knows them, else remember the state.
      customerId = await deps.customers.find(key.userId);
      if (customerId !== undefined) await deps.customers.setSubscription(customerId, decision.subscription);
      break;
  }
  await deps.store.complete(key, facts, { customerId, subscription: decision.subscription });
  metrics.addMetric('EventApplied', MetricUnit.Count, 1);
  logger.info('Event applied and recorded', { ...log, action: decision.action, subscription: decision.subscription, customerId });
  return { result: 'applied', action: decision.action, customerId, subscription: decision.subscription };
}
