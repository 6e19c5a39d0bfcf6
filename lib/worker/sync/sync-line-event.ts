import type { Logger } from '@aws-lambda-powertools/logger';

import type { LineCustomerDirectory, Registration } from '../../capillary/customer-directory';
import { decide, type SubscriptionState, type SyncDecision } from '../../domain/sync-rules';
import type { LineProfileClient } from '../../line/profile-client';
import { countForChannel } from '../../observability/telemetry';
import type { ClaimedEvent } from '../claim-user-record';

/** What a follow or unfollow syncs with: the channel's LINE profiles and its account in its Capillary org. */
export interface SyncChannel {
  id: string;
  customers: LineCustomerDirectory;
  profiles: LineProfileClient;
}

export type SyncOutcome = {
  result: 'applied';
  action: SyncDecision['action'];
  customerId?: number;
  subscription: SubscriptionState;
};

/**
 * A claimed follow or unfollow → at most one change of the user's Capillary state: act on Capillary as
 * domain/sync-rules decides, then record what was applied. A throw leaves the claim to be resumed by the retry.
 */
export async function syncLineEvent(
  { key, event, state, complete }: ClaimedEvent,
  channel: SyncChannel,
  log: Logger,
  call: { deadlineAt: number },
): Promise<SyncOutcome> {
  const decision = decide(event, state, channel.customers.defersRegistration);
  let customerId: number | undefined;
  switch (decision.action) {
    case 'register': {
      const registration = await registerLineUser(key.userId, channel, log, call);
      customerId = registration.customerId;
      if (!registration.subscribed) await channel.customers.setSubscription(customerId, decision.subscription, call);
      break;
    }
    case 'subscribe':
      customerId = decision.customerId;
      await channel.customers.setSubscription(customerId, decision.subscription, call);
      break;
    case 'record':
      break;
    case 'resolve-then-subscribe':
      // An unfollow is never lost: opt the customer out if Capillary knows them, else remember the state.
      customerId = await channel.customers.find(key.userId, call);
      if (customerId !== undefined) await channel.customers.setSubscription(customerId, decision.subscription, call);
      break;
  }
  await complete({ customerId, subscription: decision.subscription });
  countForChannel('EventApplied', channel.id);
  log.info('Event applied and recorded', { action: decision.action, subscription: decision.subscription, customerId });
  return { result: 'applied', action: decision.action, customerId, subscription: decision.subscription };
}

/** Registers a LINE user with no Capillary customer yet, named by their LINE profile where LINE answers it. */
export async function registerLineUser(
  userId: string,
  channel: SyncChannel,
  log: Logger,
  call: { deadlineAt: number },
): Promise<Registration> {
  const profile = await channel.profiles.lookup(userId);
  if (!profile.found) log.info('LINE profile unavailable; registering without a name', { reason: profile.reason });
  const registration = await channel.customers.register(userId, profile.found ? profile.displayName : undefined, call);
  // Merges across sources are worth an audit trail (docs/capillary.md#merges).
  if (registration.merged)
    log.info('Capillary merged the LINE profile into an existing customer (8050)', {
      customerId: registration.customerId,
    });
  return registration;
}
