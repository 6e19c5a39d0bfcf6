import type { AttachMethod, CustomerReference } from '../domain/link-rules';
import { lineCommChannel } from './customer-calls';
import { apiErrorOf, errorCodes } from './envelope';
import { CapillaryApiError } from './errors';
import type { CallOptions, CapillaryHttpClient } from './http-client';
import {
  carriesInstoreIdentifier,
  CUSTOMER_NOT_FOUND,
  lineProfileOf,
  readProfiles,
  sharedIdentifierOf,
  type Identifier,
  type ProfileView,
} from './member-profiles';
import {
  fileMergeRequest,
  readMergeRequestStatus,
  withdrawMergeRequest,
  type MergeRequestOutcome,
  type MergeRequestStatus,
} from './merge-requests';

/** Codes from docs/capillary.md#change-identifier. */
const LINE_ID_TAKEN = new Set([8006, 8007, 8008]);

export interface MemberLinkSettings {
  attachMethod: AttachMethod;
  /** `client_auto_approve=true` on merge requests (docs/capillary.md#merge-requests) */
  mergeAutoApprove: boolean;
}

export type AttachResult = { attached: true } | { attached: false; reason: string };
/** The identifiers a detach took off a customer's LINE profile: what a failed link puts back. */
export type DetachedProfile = Identifier[];

/**
 * The Capillary side of linking: find the brand's member, put this channel's LINE profile on it, and take
 * it off again. Every write is safe to repeat: "already there" answers are settled by reading the member.
 */
export class MemberLinker {
  constructor(
    private readonly http: CapillaryHttpClient,
    private readonly lineAccountId: string,
    private readonly settings: MemberLinkSettings,
  ) {}

  /** The member's customer id, or undefined when Capillary has no such member. */
  async findMember(reference: CustomerReference, call: CallOptions): Promise<number | undefined> {
    if (reference.kind === 'customerId')
      return (await this.#profiles(reference.value, call)) === undefined ? undefined : reference.value;
    const query = new URLSearchParams({
      source: 'INSTORE',
      identifierName: reference.kind,
      identifierValue: reference.value,
    });
    const response = await this.http.request(
      'link-lookup-member',
      'GET',
      `/v2/customers/lookup?${query}`,
      undefined,
      call,
    );
    if (typeof response.body.entity === 'number') return response.body.entity;
    if (errorCodes(response.body).some((code) => CUSTOMER_NOT_FOUND.has(code))) return undefined;
    throw apiErrorOf('link-lookup-member', response);
  }

  async attach(
    memberId: number,
    lineUserId: string,
    reference: CustomerReference,
    call: CallOptions,
  ): Promise<AttachResult> {
    const result =
      this.settings.attachMethod === 'add-profile'
        ? await this.#attachByAddProfile(memberId, lineUserId, reference, call)
        : await this.#changeIdentifier(memberId, 'add', [{ type: 'line', value: lineUserId }], call);
    if (result.attached || result.reason !== 'line-id-taken') return result;
    // "Already there" is this call's own earlier success (a retry) when the member holds the id.
    return (await this.holdsLineId(memberId, lineUserId, call)) ? { attached: true } : result;
  }

  /**
   * Takes this channel's LINE profile off a customer (the anonymous one on link, the member on unlink):
   * every identifier of it, so no leftover (an externalId, the member's mobile) blocks a later register or link.
   */
  async detach(customerId: number, lineUserId: string, call: CallOptions): Promise<DetachedProfile> {
    const profile = lineProfileOf((await this.#profiles(customerId, call)) ?? [], this.lineAccountId, lineUserId);
    // Already off (this call's own earlier success): what it took is the LINE id at least.
    if (profile === undefined) return [{ type: 'line', value: lineUserId }];
    const identifiers = (profile.identifiers ?? []).filter(
      (i): i is Identifier => typeof i.type === 'string' && typeof i.value === 'string',
    );
    const result = await this.#changeIdentifier(customerId, 'remove', identifiers, call);
    if (!result.attached) throw new CapillaryApiError('link-remove-line-id', 400, [], undefined, result.reason);
    return identifiers;
  }

  /** Puts a detached LINE profile back on its customer (a link whose attach failed); nothing when it is there. */
  async restore(customerId: number, lineUserId: string, detached: DetachedProfile, call: CallOptions): Promise<void> {
    if (await this.holdsLineId(customerId, lineUserId, call)) return;
    const result = await this.#changeIdentifier(customerId, 'add', detached, call);
    if (!result.attached) throw new CapillaryApiError('link-add-line-id', 400, [], undefined, result.reason);
  }

  /**
   * Takes an identifier the bridge wrote off the customer's INSTORE profile, where a merge carried it (an unlinked
   * member must not keep the person's registration key): true when it is off, false when Capillary refuses.
   */
  async removeInstoreIdentifier(customerId: number, identifier: Identifier, call: CallOptions): Promise<boolean> {
    if (!carriesInstoreIdentifier((await this.#profiles(customerId, call)) ?? [], identifier)) return true;
    return (await this.#changeIdentifier(customerId, 'remove', [identifier], call, 'INSTORE')).attached;
  }

  /** The member already carries a LINE user of this account other than this one (Capillary keeps one per account). */
  async holdsAnotherLineUser(memberId: number, lineUserId: string, call: CallOptions): Promise<boolean> {
    return ((await this.#profiles(memberId, call)) ?? []).some(
      (profile) =>
        profile.source === 'LINE' &&
        profile.accountId === this.lineAccountId &&
        (profile.identifiers ?? []).some((identifier) => identifier.type === 'line' && identifier.value !== lineUserId),
    );
  }

  /** Files "merge victim into survivor" once; it stays PENDING for Capillary's review unless auto-approve is on. */
  requestMerge(victimId: number, survivorId: number, call: CallOptions): Promise<MergeRequestOutcome> {
    return fileMergeRequest(this.http, { victimId, survivorId, autoApprove: this.settings.mergeAutoApprove }, call);
  }

  /** Withdraws a pending merge request this account's link filed (the user moved on before Capillary's review). */
  withdrawMerge(requestId: string, call: CallOptions): Promise<MergeRequestStatus> {
    return withdrawMergeRequest(this.http, requestId, call);
  }

  mergeRequestStatus(requestId: string, call: CallOptions): Promise<MergeRequestStatus> {
    return readMergeRequestStatus(this.http, requestId, call);
  }

  async holdsLineId(customerId: number, lineUserId: string, call: CallOptions): Promise<boolean> {
    return lineProfileOf((await this.#profiles(customerId, call)) ?? [], this.lineAccountId, lineUserId) !== undefined;
  }

  /**
   * Capillary's own recipe: a LINE-source profile carrying an identifier the member's INSTORE profile has,
   * so that Capillary merges it into the member (8050).
   */
  async #attachByAddProfile(
    memberId: number,
    lineUserId: string,
    reference: CustomerReference,
    call: CallOptions,
  ): Promise<AttachResult> {
    const shared =
      reference.kind === 'customerId'
        ? sharedIdentifierOf((await this.#profiles(memberId, call)) ?? [])
        : { type: reference.kind, value: reference.value };
    if (shared === undefined) return { attached: false, reason: 'member-has-no-mobile-email-or-externalId' };
    const response = await this.http.request(
      'link-add-line-profile',
      'POST',
      '/v2/customers',
      {
        loyaltyInfo: { loyaltyType: 'non_loyalty' },
        profiles: [
          {
            fields: {},
            identifiers: [{ type: 'line', value: lineUserId }, shared],
            commChannels: [lineCommChannel(lineUserId)],
            source: 'LINE',
            accountId: this.lineAccountId,
          },
        ],
        extendedFields: {},
      },
      call,
    );
    const createdId = response.body.createdId;
    if (createdId === memberId) return { attached: true };
    // Capillary combined the profile with someone else: reported, never taken as a link.
    if (typeof createdId === 'number')
      return { attached: false, reason: `capillary-merged-into-customer-${createdId}` };
    if (errorCodes(response.body).some((code) => LINE_ID_TAKEN.has(code)))
      return { attached: false, reason: 'line-id-taken' };
    throw apiErrorOf('link-add-line-profile', response);
  }

  async #changeIdentifier(
    customerId: number,
    change: 'add' | 'remove',
    identifiers: Identifier[],
    call: CallOptions,
    source: 'LINE' | 'INSTORE' = 'LINE',
  ): Promise<AttachResult> {
    // INSTORE is a single-account source: no accountId (docs/capillary.md#change-identifier).
    const query = new URLSearchParams(source === 'LINE' ? { source, accountId: this.lineAccountId } : { source });
    const operation = `link-${change}-${source === 'LINE' ? 'line' : 'instore'}-id`;
    const response = await this.http.request(
      operation,
      'POST',
      `/v2/customers/${customerId}/changeIdentifier?${query}`,
      { [change]: identifiers },
      call,
    );
    const codes = errorCodes(response.body);
    if (codes.length === 0 && response.status < 400) return { attached: true };
    if (codes.some((code) => LINE_ID_TAKEN.has(code))) return { attached: false, reason: 'line-id-taken' };
    if (change === 'remove' && codes.length > 0) return { attached: false, reason: `codes ${codes.join(',')}` };
    throw apiErrorOf(operation, response);
  }

  #profiles(customerId: number, call: CallOptions): Promise<ProfileView[] | undefined> {
    return readProfiles(this.http, customerId, call);
  }
}
