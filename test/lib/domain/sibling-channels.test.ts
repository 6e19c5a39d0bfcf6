import { sharesUserIds } from '../../../lib/domain/sibling-channels';

describe('channels whose records of one user id are one person', () => {
  const th = { id: 'th', capillaryOrg: 'brand-org', lineProvider: 'brand' };

  it('another channel of the same provider and org', () => {
    expect(sharesUserIds(th, { id: 'tw', capillaryOrg: 'brand-org', lineProvider: 'brand' })).toBe(true);
  });

  it('not the channel itself, nor one of another provider or another org', () => {
    expect(sharesUserIds(th, th)).toBe(false);
    expect(sharesUserIds(th, { id: 'jp', capillaryOrg: 'brand-org', lineProvider: 'other-brand' })).toBe(false);
    expect(sharesUserIds(th, { id: 'sg', capillaryOrg: 'other-org', lineProvider: 'brand' })).toBe(false);
  });

  it('without a provider named: one provider per org', () => {
    const [a, b] = [
      { id: 'a', capillaryOrg: 'o' },
      { id: 'b', capillaryOrg: 'o' },
    ];
    expect(sharesUserIds(a, b)).toBe(true);
    expect(sharesUserIds(a, { ...b, lineProvider: 'brand' })).toBe(false);
  });
});
