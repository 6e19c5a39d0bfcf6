import {
  chooseProgram,
  isStaleTierChange,
  isTierEvent,
  menuForTier,
  menusOf,
  parseLoyaltyProgramId,
  parseRichMenusByTier,
  readTierChange,
  type RichMenusByTier,
} from '../../../lib/domain/loyalty-rules';

const GOLD = `richmenu-${'a'.repeat(32)}`;
const SILVER = `richmenu-${'b'.repeat(32)}`;
const BASE = `richmenu-${'c'.repeat(32)}`;
const WHERE = 'LINE_RICH_MENUS_BY_TIER';

function parsed(raw: unknown): RichMenusByTier {
  const { map, problems } = parseRichMenusByTier(raw, WHERE);
  expect(problems).toEqual([]);
  if (map === undefined) throw new Error('no map');
  return map;
}

describe('parseRichMenusByTier', () => {
  it('reads tier names, tier numbers, aliases and "*" from the JSON text of the setting', () => {
    const map = parsed(JSON.stringify({ Gold: GOLD, '1': SILVER, diamond: 'richmenu-alias-diamond', '*': BASE }));

    expect(map.byName).toEqual(
      new Map([
        ['gold', { richMenuId: GOLD }],
        ['diamond', { aliasId: 'richmenu-alias-diamond' }],
      ]),
    );
    expect(map.byNumber).toEqual(new Map([[1, { richMenuId: SILVER }]]));
    expect(map.fallback).toEqual({ richMenuId: BASE });
  });

  it('takes a channel entry’s parsed object as well, and no setting as no map', () => {
    expect(parsed({ Gold: GOLD }).byName.get('gold')).toEqual({ richMenuId: GOLD });
    expect(parseRichMenusByTier(undefined, WHERE)).toEqual({ map: undefined, problems: [] });
    expect(parseRichMenusByTier('', WHERE)).toEqual({ map: undefined, problems: [] });
  });

  it('names every key whose value is not a menu, and gives no map then', () => {
    const { map, problems } = parseRichMenusByTier(
      { Gold: 'richmenu-XYZ', Silver: 42, Bronze: 'Has Spaces', Base: BASE },
      'LINE_CHANNELS[1].richMenusByTier',
    );

    expect(map).toBeUndefined();
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^LINE_CHANNELS\[1\]\.richMenusByTier\["Gold"\] must be a rich menu id/);
    expect(problems[1]).toContain('["Silver"]');
    expect(problems[2]).toContain('["Bronze"]');
  });

  it('refuses text that is not JSON, JSON that is not an object, a blank tier and a tier named twice', () => {
    expect(parseRichMenusByTier('{', WHERE).problems).toEqual([`${WHERE} is not valid JSON`]);
    expect(parseRichMenusByTier('[]', WHERE).problems[0]).toMatch(/must be a JSON object of tier → rich menu/);
    expect(parseRichMenusByTier({ ' ': GOLD }, WHERE).problems).toEqual([
      `${WHERE}[" "]: a tier must be a name or a number`,
    ]);
    expect(parseRichMenusByTier({ Gold: GOLD, GOLD: SILVER }, WHERE).problems).toEqual([
      `${WHERE}["GOLD"] names a tier another key names already`,
    ]);
  });
});

describe('menuForTier', () => {
  const map = parsed({ gold: GOLD, '1': SILVER });
  const withFallback = parsed({ gold: GOLD, '1': SILVER, '*': BASE });

  it('finds the tier by name whatever its case, else by number', () => {
    expect(menuForTier(map, { tierName: 'GOLD', tierNumber: 2 })).toEqual({ richMenuId: GOLD });
    expect(menuForTier(map, { tierName: 'silver', tierNumber: 1 })).toEqual({ richMenuId: SILVER });
    expect(menuForTier(map, { tierNumber: 1 })).toEqual({ richMenuId: SILVER });
  });

  it('gives an unmapped tier the "*" menu, or none without one', () => {
    expect(menuForTier(withFallback, { tierName: 'Diamond', tierNumber: 3 })).toEqual({ richMenuId: BASE });
    expect(menuForTier(map, { tierName: 'Diamond', tierNumber: 3 })).toBeUndefined();
    expect(menuForTier(map, {})).toBeUndefined();
  });

  it('lists each menu the map names once, for the existence checks', () => {
    const twice = parsed({ gold: GOLD, '2': GOLD, silver: 'alias-silver', '*': BASE });

    expect(menusOf(twice)).toEqual([{ richMenuId: GOLD }, { aliasId: 'alias-silver' }, { richMenuId: BASE }]);
  });
});

describe('parseLoyaltyProgramId and chooseProgram', () => {
  it('reads a positive whole number, nothing as "not set", and names the setting otherwise', () => {
    expect(parseLoyaltyProgramId('978')).toEqual({ programId: 978, problems: [] });
    expect(parseLoyaltyProgramId(undefined)).toEqual({ problems: [] });
    expect(parseLoyaltyProgramId(' ')).toEqual({ problems: [] });
    expect(parseLoyaltyProgramId('gold').problems[0]).toMatch(/^CAPILLARY_LOYALTY_PROGRAM_ID must be/);
    expect(parseLoyaltyProgramId('-3').problems).toHaveLength(1);
  });

  it('picks the configured program, else the first entry', () => {
    const entries = [{ programId: 1219 }, { programId: 1223 }];

    expect(chooseProgram(entries, 1223)).toBe(entries[1]);
    expect(chooseProgram(entries)).toBe(entries[0]);
    expect(chooseProgram(entries, 7)).toBeUndefined();
    expect(chooseProgram([], undefined)).toBeUndefined();
  });
});

/** The docs' newer tierUpgraded sample (capillary docs "Event schema – tier"), trimmed. */
const upgraded = {
  eventName: 'tierUpgraded' as const,
  createdAt: 1724058034369,
  data: {
    customerIdentifiers: { customerId: 347266498, instore: { mobile: '919817074381', cardNumbers: [] } },
    loyaltyProgramDetails: {
      id: 978,
      tiers: [
        { tierNumber: 1, tierName: 'silver' },
        { tierNumber: 2, tierName: 'GOLD' },
      ],
    },
    loyaltyProgramId: 978,
    previousTierNumber: 1,
    upgradedTierNumber: 2,
  },
};

describe('readTierChange', () => {
  it('reads the new tier, its name, the program and the time of a tierUpgraded', () => {
    expect(readTierChange(upgraded)).toEqual({
      change: {
        event: 'tierUpgraded',
        customerId: 347266498,
        programId: 978,
        tierNumber: 2,
        tierName: 'GOLD',
        changedAt: 1724058034369,
      },
    });
  });

  it('reads tierDowngraded and tierRenewed by their own fields, without a name when tiers is null', () => {
    const base = {
      customerIdentifiers: { customerId: 379499720.0 },
      loyaltyProgramDetails: { tiers: null },
      loyaltyProgramId: 1676,
    };
    const downgraded = {
      eventName: 'tierDowngraded' as const,
      createdAt: 1720435042600.0,
      data: { ...base, downgradedTierNumber: 1 },
    };
    const renewed = {
      eventName: 'tierRenewed' as const,
      createdAt: '1720435141002',
      data: { ...base, currentTierNumber: 3 },
    };

    expect(readTierChange(downgraded)).toEqual({
      change: {
        event: 'tierDowngraded',
        customerId: 379499720,
        programId: 1676,
        tierNumber: 1,
        changedAt: 1720435042600,
      },
    });
    expect(readTierChange(renewed)).toMatchObject({
      change: { event: 'tierRenewed', tierNumber: 3, changedAt: 1720435141002 },
    });
  });

  it('ignores a notification about another program than the configured one', () => {
    expect(readTierChange(upgraded, 978)).toHaveProperty('change');
    expect(readTierChange(upgraded, 1223)).toEqual({ ignored: 'other-program' });
  });

  it('names what is missing', () => {
    const without = (field: string) => ({ ...upgraded, data: { ...upgraded.data, [field]: undefined } });

    expect(readTierChange({ eventName: 'tierUpgraded' })).toEqual({ problem: 'tierUpgraded without a data object' });
    expect(readTierChange(without('customerIdentifiers'))).toEqual({
      problem: 'tierUpgraded without data.customerIdentifiers.customerId',
    });
    expect(readTierChange(without('upgradedTierNumber'))).toEqual({
      problem: 'tierUpgraded without data.upgradedTierNumber',
    });
    expect(readTierChange(without('loyaltyProgramId'))).toEqual({
      problem: 'tierUpgraded without data.loyaltyProgramId',
    });
    expect(readTierChange({ ...upgraded, createdAt: 'yesterday' })).toEqual({
      problem: 'tierUpgraded without createdAt',
    });
  });

  it('knows the three tier events and no other', () => {
    expect(['tierUpgraded', 'tierDowngraded', 'tierRenewed'].every(isTierEvent)).toBe(true);
    expect(isTierEvent('pointsIssued')).toBe(false);
    expect(isTierEvent(undefined)).toBe(false);
  });
});

describe('isStaleTierChange', () => {
  it('skips a change older than the last one applied, and only that', () => {
    expect(isStaleTierChange(1000, 2000)).toBe(true);
    expect(isStaleTierChange(2000, 2000)).toBe(false);
    expect(isStaleTierChange(3000, 2000)).toBe(false);
    expect(isStaleTierChange(1000, undefined)).toBe(false);
  });
});
