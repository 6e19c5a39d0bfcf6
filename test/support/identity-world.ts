/** Hand-made people for the identity oracle's tests: one bot, channel `th`. */
import type { IdentityFacts } from '../../local/chaos/identity-play';
import type { IdentityPlan } from '../../local/chaos/identity-scenario';
import type { UserHistory } from '../../local/chaos/scenario';
import { accountLinkEvent, followEvent } from '../../local/line-event-factory';

export const destination = 'Ubot';
export const account = 'account-th';
export const MEMBER_MOBILE = '66800000000';

/** `Ulinked` followed, then linked by accountLink with nonce-1. */
export const link = accountLinkEvent('Ulinked', 2000, 'nonce-1');
export const linked: UserHistory = {
  userId: 'Ulinked',
  channel: 'th',
  destination,
  events: [followEvent('Ulinked', 1000), link],
  actions: ['follow', 'link'],
  links: [{ webhookEventId: link.webhookEventId, nonce: 'nonce-1' }],
  attacks: [],
};

/** The run's plan: its one link, to the member of the user's own mobile. */
export const plan: IdentityPlan = {
  cutAt: 1800,
  rounds: [[], []],
  links: new Map([[link.webhookEventId, { target: 'own', via: 'accountLink', replayed: false }]]),
  unlinksByCustomer: new Set(),
  actions: [],
  linkChannels: new Set(['th']),
};

/** What the run set up: `Ulinked`'s members by mobile, and the PII deletions made. */
export const identityFacts = (deleted: IdentityFacts['deletedProfiles'] = []): IdentityFacts => ({
  members: new Map([[`${destination}#Ulinked`, { own: MEMBER_MOBILE, second: '66800000001' }]]),
  takenMobiles: new Map(),
  missingMobile: '66900000000',
  foreignLineIds: new Set(),
  apiAnswers: new Map(),
  actions: [],
  deletedProfiles: deleted,
  notificationsRelayed: 0,
  notificationsRefused: 0,
});
