/**
 * What a follow or unfollow asks of Capillary, given the user's record. Pure: no AWS, no HTTP. The order of
 * events is domain/sync-rules' business; this says what the admitted event does.
 */
import { UnsupportedEventTypeError } from './errors';
import { unrecordedSince, type LineEventFacts, type SubscriptionState, type UserSyncState } from './sync-rules';

export type SyncDecision =
  /** follow of someone with no known customer: register, then opt in */
  | { action: 'register'; subscription: 'OPTIN' }
  /** follow or unfollow of a known customer: set the subscription */
  | { action: 'subscribe'; subscription: SubscriptionState; customerId: number }
  /** unfollow of someone with no known customer: find them if Capillary has them, else remember the opt-out */
  | { action: 'resolve-then-subscribe'; subscription: 'OPTOUT' }
  /** registration deferred until the user links (CAPILLARY_REGISTRATION_MODE=on-link): only the record changes */
  | { action: 'record'; subscription: SubscriptionState };

/**
 * @param deferRegistration CAPILLARY_REGISTRATION_MODE=on-link: a follower without a customer gets none
 *   until they link; the state is recorded and applied to the member then.
 */
export function decide(
  event: LineEventFacts,
  state: UserSyncState | undefined,
  deferRegistration = false,
): SyncDecision {
  const customerId = state?.customerId;
  // A forgotten user is on no customer: only a new consent (a follow after the deletion) registers them again.
  if (state !== undefined && keepsForgotten(event, state))
    return { action: 'record', subscription: event.type === 'follow' ? 'OPTIN' : 'OPTOUT' };
  if (deferRegistration && customerId === undefined && (event.type === 'follow' || event.type === 'unfollow')) {
    return { action: 'record', subscription: event.type === 'follow' ? 'OPTIN' : 'OPTOUT' };
  }
  if (event.type === 'follow') {
    return customerId === undefined
      ? { action: 'register', subscription: 'OPTIN' }
      : { action: 'subscribe', subscription: 'OPTIN', customerId };
  }
  if (event.type === 'unfollow') {
    return customerId === undefined
      ? { action: 'resolve-then-subscribe', subscription: 'OPTOUT' }
      : { action: 'subscribe', subscription: 'OPTOUT', customerId };
  }
  throw new UnsupportedEventTypeError(event.type);
}

/**
 * Whether the user stays forgotten after this follow/unfollow: a follow from before the deletion is no new consent,
 * and an unfollow touches nothing in Capillary. A newer follow registers the user afresh and clears the mark. An
 * unfollow after an event since the deletion that claimed and was never recorded (another, or its own earlier attempt,
 * which may have taken over another's claim) looks the user up instead: a follow may have registered them (the caller
 * clears the mark only if it found a customer).
 */
export function keepsForgotten(event: LineEventFacts, state: UserSyncState): boolean {
  if (state.forgottenAt === undefined) return false;
  if (event.type === 'follow') return event.timestamp <= state.forgottenAt;
  return !unrecordedSince(state, event, state.forgottenAt);
}
