import type { Logger } from '@aws-lambda-powertools/logger';

import type { CallOptions } from '../../capillary/http-client';
import type { SubscriptionState } from '../../domain/sync-rules';
import type { SyncChannel } from './sync-line-event';

/**
 * A customer of their own for a LINE user the bridge has none for (a follow, an unlinked friend, a
 * customer Capillary no longer has), with this subscription: the customer id.
 */
export async function registerFollower(
  channel: SyncChannel,
  userId: string,
  subscription: SubscriptionState,
  log: Logger,
  call: CallOptions,
): Promise<number> {
  const profile = await channel.profiles.lookup(userId);
  if (!profile.found) log.info('LINE profile unavailable; registering without a name', { reason: profile.reason });
  const registration = await channel.customers.register(userId, profile.found ? profile.displayName : undefined, call);
  const { customerId } = registration;
  // Merges across sources are worth an audit trail (docs/capillary.md#merges).
  if (registration.merged)
    log.info('Capillary merged the LINE profile into an existing customer (8050)', { customerId });
  if (!registration.subscribed || subscription !== 'OPTIN')
    await channel.customers.setSubscription(customerId, subscription, call);
  return customerId;
}
