/**
 * What linking a LINE user to the brand's own loyalty member means. Pure: no AWS, no HTTP.
 *
 * Two ways in (docs/line.md#account-link, docs/line.md#id-token): LINE's `accountLink` event carrying
 * the nonce the brand's server made, or an ID token the link API verified (it queues a `bridge.link`
 * event carrying a nonce of its own). Both end as one queued event of that LINE user, ordered with the
 * user's follow/unfollow events. Unlinking arrives as a postback or as a `bridge.unlink` event.
 */
import { InvalidLinkFieldError } from './errors';
import type { LinkState, SubscriptionState, UserSyncState } from './sync-rules';

/** Events the link API queues itself; LINE never sends these types. */
export const BRIDGE_LINK_TYPE = 'bridge.link';
export const BRIDGE_UNLINK_TYPE = 'bridge.unlink';
/** How the member is found in Capillary: exactly one of these (docs/capillary.md#attach-line-to-a-member). */
export type CustomerReference =
  | { kind: 'mobile'; value: string }
  | { kind: 'email'; value: string }
  | { kind: 'externalId'; value: string }
  | { kind: 'customerId'; value: number };

export const CUSTOMER_REFERENCE_KINDS = ['mobile', 'email', 'externalId', 'customerId'] as const;

const MOBILE = /^[0-9]{8,15}$/; // country code + number, digits only (docs/capillary.md#add-customer)
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{1,63}$/;
const EXTERNAL_ID = /^[\x21-\x7e]{1,100}$/;

/** `{"mobile": "66812345678"}` and the like → a reference, or an error naming the field. */
export function parseCustomerReference(value: unknown, field = 'customer'): CustomerReference {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidLinkFieldError(field, 'must be an object');
  const given = CUSTOMER_REFERENCE_KINDS.filter((kind) => (value as Record<string, unknown>)[kind] !== undefined);
  if (given.length !== 1)
    throw new InvalidLinkFieldError(field, `must have exactly one of ${CUSTOMER_REFERENCE_KINDS.join(', ')}`);
  const kind = given[0] as CustomerReference['kind'];
  const raw = (value as Record<string, unknown>)[kind];
  const at = `${field}.${kind}`;
  if (kind === 'customerId') {
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw <= 0)
      throw new InvalidLinkFieldError(at, 'must be a positive integer');
    return { kind, value: raw };
  }
  if (typeof raw !== 'string') throw new InvalidLinkFieldError(at, 'must be a string');
  const pattern = kind === 'mobile' ? MOBILE : kind === 'email' ? EMAIL : EXTERNAL_ID;
  const problem =
    kind === 'mobile'
      ? 'must be 8 to 15 digits with the country code'
      : kind === 'email'
        ? 'must be an email address'
        : 'must be 1 to 100 printable ASCII characters';
  if (raw.length > 254 || !pattern.test(raw)) throw new InvalidLinkFieldError(at, problem);
  return { kind, value: raw };
}

/** How a user starts and ends linking in chat (domain/event-route routes by these). */
export interface ChatLinkSettings {
  /** postback `data` that starts linking (default `action=link`) */
  linkPostbackData: string;
  unlinkPostbackData: string;
  /** a text message equal to this (case and surrounding space ignored) also starts linking; undefined = off */
  linkKeyword: string | undefined;
}

/** A nonce as stored by the link API (docs/line.md#account-link step 4). */
export interface NonceRecord {
  /** the LINE user the link token was issued for (or the verified ID token's `sub`) */
  userId: string;
  destination: string;
  customer: CustomerReference;
  expiresAt: number;
  /** the event that consumed it; set once */
  consumedBy?: string;
}

export type NonceRefusal = 'unknown-nonce' | 'expired-nonce' | 'consumed-nonce';
export type LinkRejection = NonceRefusal | 'impersonation' | 'no-nonce';

/**
 * Whether this event may use this nonce. The store consumes it with a conditional write; this says
 * why a nonce was refused, and catches the event of one user carrying the nonce made for another.
 */
export function nonceVerdict(
  record: NonceRecord | undefined,
  event: { webhookEventId: string; userId: string; destination: string },
  now: number,
): 'accept' | LinkRejection {
  if (record === undefined) return 'unknown-nonce';
  if (record.consumedBy !== undefined && record.consumedBy !== event.webhookEventId) return 'consumed-nonce';
  if (record.consumedBy === undefined && record.expiresAt <= now) return 'expired-nonce';
  if (record.userId !== event.userId || record.destination !== event.destination) return 'impersonation';
  return 'accept';
}

/**
 * The member gets the user's current state on this channel. LINE sends accountLink only to friends, so
 * an unknown state there is OPTIN; an ID token says nothing about friendship, so unknown is OPTOUT.
 */
export function subscriptionOnLink(
  recorded: SubscriptionState | undefined,
  via: 'accountLink' | 'id-token',
): SubscriptionState {
  return recorded ?? (via === 'accountLink' ? 'OPTIN' : 'OPTOUT');
}

export type AnonymousCustomerMode = 'detach' | 'merge-request' | 'keep';

/** How the LINE profile reaches the member (both Unconfirmed, docs/capillary.md#attach-line-to-a-member). */
export type AttachMethod = 'add-profile' | 'change-identifier';

/**
 * What to do with the customer that carries the LINE profile (made at follow time), once the member is known. A previous
 * member is always detached: two members are never merged or both kept. Capillary takes one pending merge request per
 * victim (9018): a record linked to a member it is not on has one pending into that member (or may have, its answer
 * lost), so a link to another member cannot wait for a merge of its own and moves the profile as `detach` does.
 * @param linkedCustomerId the member the user's record is linked to, if any
 */
export function anonymousCustomerAction(
  anonymousCustomerId: number | undefined,
  memberId: number,
  mode: AnonymousCustomerMode,
  linkedCustomerId?: number,
): AnonymousCustomerMode | 'none' {
  if (anonymousCustomerId === undefined || anonymousCustomerId === memberId) return 'none';
  if (linkedCustomerId === anonymousCustomerId) return 'detach';
  if (mode === 'merge-request' && linkedCustomerId !== undefined && linkedCustomerId !== memberId) return 'detach';
  return mode;
}

/** A merge-pending link's detail when the bridge knows the request it filed: `request <id>`. */
export const pendingMergeDetail = (requestId: number | string): string => `request ${requestId}`;

/** An event put the user on the member their link waits to be merged into: Capillary approved the request. */
export const landedOnPendingMember = (
  { link, linkedCustomerId }: Pick<UserSyncState, 'link' | 'linkedCustomerId'>,
  customerId: number | null | undefined,
): boolean => link?.status === 'merge-pending' && typeof customerId === 'number' && customerId === linkedCustomerId;

/**
 * The merge request a pending link filed, or undefined when it is not pending or its request is unknown (filed by an
 * attempt whose answer was lost: Capillary then answered "already pending", 9018, without naming it).
 */
export function pendingMergeRequestOf(link: LinkState | undefined): string | undefined {
  return link?.status === 'merge-pending' ? /^request (\S+)$/.exec(link.detail ?? '')?.[1] : undefined;
}

export const LINK_TOKEN_PLACEHOLDER = '{linkToken}';

/** LINK_PAGE_URL with the link token in place of `{linkToken}` (URL-encoded). */
export function linkPageUrl(template: string, linkToken: string): string {
  return template.split(LINK_TOKEN_PLACEHOLDER).join(encodeURIComponent(linkToken));
}
