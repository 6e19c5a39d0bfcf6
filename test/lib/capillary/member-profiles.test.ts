import { lineProfileOf, sharedIdentifierOf, type ProfileView } from '../../../lib/capillary/member-profiles';

const ACCOUNT = '2001914141242';
const USER = 'U0123456789abcdef0123456789abcdef';

describe('lineProfileOf', () => {
  const line = (accountId: string, value: string): ProfileView => ({
    source: 'LINE',
    accountId,
    identifiers: [{ type: 'line', value }],
  });

  it('finds the profile of this LINE account that carries the user', () => {
    const profile = line(ACCOUNT, USER);
    expect(lineProfileOf([{ source: 'INSTORE', identifiers: [] }, profile], ACCOUNT, USER)).toBe(profile);
  });

  it('ignores another account, another user, another source and a profile without identifiers', () => {
    const others: ProfileView[] = [
      line('other-account', USER),
      line(ACCOUNT, 'U' + 'f'.repeat(32)),
      { source: 'WECHAT', accountId: ACCOUNT, identifiers: [{ type: 'line', value: USER }] },
      { source: 'LINE', accountId: ACCOUNT },
    ];
    expect(lineProfileOf(others, ACCOUNT, USER)).toBeUndefined();
  });
});

describe('sharedIdentifierOf', () => {
  it("takes the INSTORE profile's mobile first, then email, then externalId", () => {
    const instore = (identifiers: { type: string; value: string }[]): ProfileView[] => [
      { source: 'INSTORE', identifiers },
    ];
    const all = [
      { type: 'externalId', value: 'm-1' },
      { type: 'email', value: 'a@example.com' },
      { type: 'mobile', value: '66812345678' },
    ];
    expect(sharedIdentifierOf(instore(all))).toEqual({ type: 'mobile', value: '66812345678' });
    expect(sharedIdentifierOf(instore(all.slice(0, 2)))).toEqual({ type: 'email', value: 'a@example.com' });
    expect(sharedIdentifierOf(instore(all.slice(0, 1)))).toEqual({ type: 'externalId', value: 'm-1' });
  });

  it('uses no identifier of another source, and answers undefined when there is none to share', () => {
    const profiles: ProfileView[] = [
      { source: 'LINE', accountId: ACCOUNT, identifiers: [{ type: 'mobile', value: '66812345678' }] },
      { source: 'INSTORE', identifiers: [{ type: 'cardnumber', value: 'c-1' }, { type: 'email' }] },
    ];
    expect(sharedIdentifierOf(profiles)).toBeUndefined();
    expect(sharedIdentifierOf([])).toBeUndefined();
  });
});
