import {
  ALT_TEXT_MAX_CHARS,
  DEFAULT_MEMBER_CARD_TEXTS,
  formatPoints,
  memberCardMessage,
  memberCardTexts,
  parseMemberCardTexts,
  tryAgainMessage,
} from '../../../lib/domain/member-card';

type Component = { type: string; text?: string; contents?: Component[] };
type Card = { type: string; altText: string; contents: { type: string; size: string; body: Component } };

const card = (message: Record<string, unknown>) => message as unknown as Card;
const textsOf = (message: Record<string, unknown>) =>
  (card(message).contents.body.contents ?? []).flatMap((component) =>
    component.text === undefined ? [] : [component.text],
  );

/** The Flex rules LINE checks that this card could break: text components need a non-empty text, a bubble ≤ 30 KB. */
function expectValidFlex(message: Record<string, unknown>): void {
  const { type, altText, contents } = card(message);
  expect(type).toBe('flex');
  expect(altText.length).toBeGreaterThan(0);
  expect(altText.length).toBeLessThanOrEqual(ALT_TEXT_MAX_CHARS);
  expect(contents.type).toBe('bubble');
  expect(['nano', 'micro', 'deca', 'hecto', 'kilo', 'mega', 'giga']).toContain(contents.size);
  expect(Buffer.byteLength(JSON.stringify(contents))).toBeLessThanOrEqual(30_000);
  const walk = (component: Component): void => {
    expect(['box', 'text', 'separator']).toContain(component.type);
    if (component.type === 'text') expect(component.text?.length).toBeGreaterThan(0);
    component.contents?.forEach(walk);
  };
  walk(contents.body);
}

describe('memberCardMessage', () => {
  it('shows the points grouped by thousands, the tier, the next expiring points and the gap to the next tier', () => {
    const message = memberCardMessage(
      { points: 12345, tierName: 'Gold', expiringPoints: 1500, expiryDate: '2026-04-27', gapToNextTier: 2000 },
      memberCardTexts(),
    );

    expectValidFlex(message);
    expect(card(message).altText).toBe('You have 12,345 points');
    expect(textsOf(message)).toEqual([
      'My points',
      '12,345 points',
      'Tier: Gold',
      '1,500 points expire on 2026-04-27',
      '2,000 more to reach the next tier',
    ]);
  });

  it('leaves out each line whose value is absent (no tier, nothing expiring, top tier), and the separator with them', () => {
    const message = memberCardMessage({ points: 0, expiringPoints: 0, gapToNextTier: 0 }, memberCardTexts());

    expectValidFlex(message);
    expect(textsOf(message)).toEqual(['My points', '0 points']);
    expect(card(message).contents.body.contents?.map((c) => c.type)).toEqual(['text', 'text']);
  });

  it('leaves out the expiry line when the date or the points are missing', () => {
    expect(textsOf(memberCardMessage({ points: 5, expiringPoints: 100 }, memberCardTexts()))).toHaveLength(2);
    expect(textsOf(memberCardMessage({ points: 5, expiryDate: '2026-04-27' }, memberCardTexts()))).toHaveLength(2);
  });

  it('uses the channel’s texts over the org’s over the defaults', () => {
    const texts = memberCardTexts(
      { title: 'Member card', tier: 'Level {tier}' },
      { title: 'บัตรสมาชิก', points: '{points} คะแนน', altText: 'คุณมี {points} คะแนน' },
    );

    const message = memberCardMessage({ points: 1234567.5, tierName: ' Platinum ' }, texts);

    expectValidFlex(message);
    expect(card(message).altText).toBe('คุณมี 1,234,567.5 คะแนน');
    expect(textsOf(message)).toEqual(['บัตรสมาชิก', '1,234,567.5 คะแนน', 'Level Platinum']);
  });

  it('cuts an altText longer than LINE takes', () => {
    const message = memberCardMessage({ points: 1 }, memberCardTexts({ altText: `${'x'.repeat(500)} {points}` }));

    expectValidFlex(message);
    expect(card(message).altText).toHaveLength(ALT_TEXT_MAX_CHARS);
    expect(card(message).altText.endsWith('…')).toBe(true);
  });

  it('still answers when texts set in code name a placeholder the line cannot have', () => {
    const texts = memberCardTexts({ points: '{tier}', altText: '{tier}' });

    const message = memberCardMessage({ points: 42 }, texts);

    expectValidFlex(message);
    expect(card(message).altText).toBe('My points');
    expect(textsOf(message)).toEqual(['My points', '42']);
  });
});

describe('formatPoints', () => {
  it('groups by thousands with at most two decimals', () => {
    expect(formatPoints(0)).toBe('0');
    expect(formatPoints(999)).toBe('999');
    expect(formatPoints(1000)).toBe('1,000');
    expect(formatPoints(54500.0)).toBe('54,500');
    expect(formatPoints(12.3456)).toBe('12.35');
  });
});

describe('tryAgainMessage', () => {
  it('is a short text, the default in English', () => {
    expect(tryAgainMessage(memberCardTexts())).toEqual({ type: 'text', text: DEFAULT_MEMBER_CARD_TEXTS.tryAgain });
    expect(tryAgainMessage(memberCardTexts({ tryAgain: 'ลองใหม่อีกครั้ง' }))).toEqual({
      type: 'text',
      text: 'ลองใหม่อีกครั้ง',
    });
  });
});

describe('parseMemberCardTexts', () => {
  const WHERE = 'LINE_CHANNELS[0].memberCardTexts';

  it('takes known texts with their own placeholders, and nothing as no override', () => {
    expect(parseMemberCardTexts({ expiring: '{expiringPoints} pts on {expiryDate}', title: 'Card' }, WHERE)).toEqual({
      texts: { expiring: '{expiringPoints} pts on {expiryDate}', title: 'Card' },
      problems: [],
    });
    expect(parseMemberCardTexts(undefined, WHERE)).toEqual({ texts: {}, problems: [] });
  });

  it('names each unknown text, empty text and placeholder a text cannot use, and takes none then', () => {
    const { texts, problems } = parseMemberCardTexts(
      { titel: 'x', tier: '', points: '{points} / {tier}', tryAgain: 'Wait {points}', altText: 'ok {points}' },
      WHERE,
    );

    expect(texts).toEqual({});
    expect(problems).toEqual([
      `${WHERE}.titel is not a text of the member card (known: title, points, tier, expiring, gapToNextTier, altText, tryAgain)`,
      `${WHERE}.tier must be a non-empty text of at most 1000 characters`,
      `${WHERE}.points uses {tier}; it may use {points}`,
      `${WHERE}.tryAgain uses {points}; it may use no placeholder`,
    ]);
  });

  it('refuses a setting that is not an object', () => {
    expect(parseMemberCardTexts('My points', WHERE).problems).toEqual([
      `${WHERE} must be a JSON object of texts, e.g. {"title": "…"}`,
    ]);
  });
});
