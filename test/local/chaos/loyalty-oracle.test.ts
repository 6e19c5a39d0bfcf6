import { checkLoyalty, type LoyaltyUserObservation } from '../../../local/chaos/loyalty-oracle';

const GOLD = 'richmenu-gold';
const SILVER = 'richmenu-silver';
const user = (overrides: Partial<LoyaltyUserObservation>): LoyaltyUserObservation => ({
  userId: 'U1',
  record: { customerId: 7, linkedCustomerId: 7 },
  friend: true,
  menu: GOLD,
  answers: 0,
  askedInChat: 0,
  ...overrides,
});
const menuOfMember = (memberId: number) => (memberId === 7 ? GOLD : undefined);

describe('loyalty chaos oracle', () => {
  it('passes a linked friend with the current tier menu, a stranger without one, a blocked member as is', () => {
    const users = [
      user({}),
      user({ userId: 'U2', record: { customerId: 8 }, menu: undefined }),
      user({ userId: 'U3', friend: false, menu: SILVER }),
      user({
        userId: 'U4',
        record: { customerId: 9, linkedCustomerId: 9 },
        menu: undefined,
        answers: 1,
        askedInChat: 1,
      }),
    ];
    expect(checkLoyalty({ users, menuOfMember })).toEqual([]);
  });

  it('fails on a planted wrong menu, a stray menu and an answer sent twice', () => {
    const users = [
      user({ menu: SILVER }),
      user({ userId: 'U2', record: { customerId: 8 }, menu: GOLD }),
      user({ userId: 'U3', answers: 2, askedInChat: 1 }),
    ];
    expect(checkLoyalty({ users, menuOfMember }).map(({ userId, kind }) => [userId, kind])).toEqual([
      ['U1', 'wrong-menu'],
      ['U2', 'stray-menu'],
      ['U3', 'answered-twice'],
    ]);
  });
});
