import { InvalidLinkFieldError } from '../../../lib/domain/errors';
import {
  anonymousCustomerAction,
  linkPageUrl,
  nonceVerdict,
  parseCustomerReference,
  subscriptionOnLink,
  type NonceRecord,
} from '../../../lib/domain/link-rules';

describe('parseCustomerReference', () => {
  it.each([
    [{ mobile: '66812345678' }, { kind: 'mobile', value: '66812345678' }],
    [{ email: 'a.b@example.co.th' }, { kind: 'email', value: 'a.b@example.co.th' }],
    [{ externalId: 'POS-1' }, { kind: 'externalId', value: 'POS-1' }],
    [{ customerId: 42 }, { kind: 'customerId', value: 42 }],
  ])('reads %j', (value, reference) => {
    expect(parseCustomerReference(value)).toEqual(reference);
  });

  it.each([
    [undefined, 'customer'],
    [{}, 'customer'],
    [{ mobile: '66812345678', email: 'a@b.co' }, 'customer'],
    [{ mobile: '+66812345678' }, 'customer.mobile'],
    [{ mobile: 66812345678 }, 'customer.mobile'],
    [{ email: 'a@b' }, 'customer.email'],
    [{ externalId: 'with space' }, 'customer.externalId'],
    [{ customerId: 1.5 }, 'customer.customerId'],
  ])('refuses %j naming %s', (value, field) => {
    expect(() => parseCustomerReference(value)).toThrow(
      expect.objectContaining({ name: InvalidLinkFieldError.name, field }),
    );
  });
});

describe('nonceVerdict', () => {
  const NOW = 10_000;
  const record: NonceRecord = {
    userId: 'Ua',
    destination: 'D',
    customer: { kind: 'mobile', value: '66812345678' },
    expiresAt: NOW + 1,
  };
  const event = { webhookEventId: 'E1', userId: 'Ua', destination: 'D' };

  it("accepts the nonce for the user its link token was issued for, also on that event's retry after expiry", () => {
    expect(nonceVerdict(record, event, NOW)).toBe('accept');
    expect(nonceVerdict({ ...record, consumedBy: 'E1', expiresAt: NOW - 1 }, event, NOW)).toBe('accept');
  });

  it.each([
    ['unknown-nonce', undefined, event],
    ['consumed-nonce', { ...record, consumedBy: 'E0' }, event],
    ['expired-nonce', { ...record, expiresAt: NOW }, event],
    ['impersonation', record, { ...event, userId: 'Ub' }],
    ['impersonation', record, { ...event, destination: 'other-bot' }],
  ] as const)('%s', (verdict, candidate, against) => {
    expect(nonceVerdict(candidate, against, NOW)).toBe(verdict);
  });
});

describe('the rest of the link rules', () => {
  it('attaches with the recorded state, else OPTIN after accountLink (a friend) and OPTOUT after an ID token', () => {
    expect(subscriptionOnLink('OPTOUT', 'accountLink')).toBe('OPTOUT');
    expect(subscriptionOnLink(undefined, 'accountLink')).toBe('OPTIN');
    expect(subscriptionOnLink(undefined, 'id-token')).toBe('OPTOUT');
  });

  it('handles the anonymous customer only when there is one other than the member', () => {
    expect(anonymousCustomerAction(undefined, 7, 'detach')).toBe('none');
    expect(anonymousCustomerAction(7, 7, 'merge-request')).toBe('none');
    expect(anonymousCustomerAction(3, 7, 'merge-request')).toBe('merge-request');
  });

  it('detaches a previous member always, and the anonymous customer of a merge pending into another member', () => {
    expect(anonymousCustomerAction(3, 7, 'merge-request', 3)).toBe('detach');
    expect(anonymousCustomerAction(3, 7, 'keep', 3)).toBe('detach');
    // on customer 3, linked to member 5: a request 3 → 5 is (or may be) pending; Capillary takes no second one
    expect(anonymousCustomerAction(3, 7, 'merge-request', 5)).toBe('detach');
    // the same member again: that request is this link's to wait for
    expect(anonymousCustomerAction(3, 7, 'merge-request', 7)).toBe('merge-request');
  });

  it('puts the URL-encoded link token into LINK_PAGE_URL', () => {
    expect(linkPageUrl('https://brand.example/link?t={linkToken}&x={linkToken}', 'a+b/c')).toBe(
      'https://brand.example/link?t=a%2Bb%2Fc&x=a%2Bb%2Fc',
    );
  });
});
