import { eventFactsOf, routeOf } from '../../../lib/domain/event-route';
import {
  CAPILLARY_TIER_TYPE,
  queuedTierNoticeOf,
  tierMenuAction,
  tierNoticeOf,
  type TierNotice,
} from '../../../lib/domain/tier-rules';
import { identityEvent } from '../../../lib/notifications/identity-events';

const CHAT = { linkPostbackData: 'action=link', unlinkPostbackData: 'action=unlink', linkKeyword: undefined };
const notice: TierNotice = { type: CAPILLARY_TIER_TYPE, customerId: 7, tierNumber: 2, tierName: 'Gold' };

describe('tier rules', () => {
  it('a tier change becomes the notice its queued event carries, and is read back from it', () => {
    const change = { event: 'tierUpgraded', customerId: 7, programId: 978, tierNumber: 2, changedAt: 5 } as const;
    expect(tierNoticeOf({ ...change, tierName: 'Gold' })).toEqual(notice);
    expect(queuedTierNoticeOf(CAPILLARY_TIER_TYPE, { customerId: 7, tierNumber: 2, tierName: 'Gold' })).toEqual(notice);
    expect(queuedTierNoticeOf(CAPILLARY_TIER_TYPE, { customerId: 7, tierNumber: 0 })).toBeUndefined();
    expect(queuedTierNoticeOf('capillary.merge', { customerId: 7, tierNumber: 2 })).toBeUndefined();
  });

  it('routes a queued tier event to the loyalty lane of its user', () => {
    const event = identityEvent('Uuser', notice, 'CAPILLARY-x', 5);
    expect(routeOf(eventFactsOf(event), CHAT)).toEqual({
      kind: 'tier',
      notice,
      userId: 'Uuser',
      lane: 'loyalty',
    });
  });

  it('shows the menu only to a user linked to that member; anyone else gets none', () => {
    expect(tierMenuAction({ customerId: 7, linkedCustomerId: 7 }, notice)).toBe('show');
    expect(tierMenuAction({ customerId: 7 }, notice)).toBe('remove');
    expect(tierMenuAction({ customerId: 8, linkedCustomerId: 8 }, notice)).toBe('remove');
  });
});
