import { readChannels } from '../../../lib/config/channels';
import { readConfig } from '../../../lib/config/env-reader';
import { readLoyaltySettings } from '../../../lib/config/loyalty-config';

const noSecrets = async () => undefined;

describe('loyalty settings', () => {
  it('reads the defaults, the program and the org texts', async () => {
    expect(await readConfig({}, noSecrets, readLoyaltySettings)).toEqual({
      pointsPostbackData: 'action=points',
      memberCardTexts: {},
    });
    const env = {
      CAPILLARY_LOYALTY_PROGRAM_ID: '978',
      POINTS_KEYWORD: 'points',
      MEMBER_CARD_TEXTS: '{"title": "แต้ม"}',
    };
    expect(await readConfig(env, noSecrets, readLoyaltySettings)).toEqual({
      programId: 978,
      pointsPostbackData: 'action=points',
      pointsKeyword: 'points',
      memberCardTexts: { title: 'แต้ม' },
    });
  });

  it('names every problem: the program, the org texts, a channel map key', async () => {
    const env = {
      CAPILLARY_LOYALTY_PROGRAM_ID: 'gold',
      MEMBER_CARD_TEXTS: '{"title": "{points}"}',
      LINE_CHANNELS: JSON.stringify([
        {
          id: 'th',
          channelSecret: 's',
          channelAccessToken: 't',
          capillaryLineAccountId: 'a',
          richMenusByTier: { Gold: 'x y' },
        },
      ]),
    };
    await expect(
      readConfig(env, noSecrets, async (read) => [readLoyaltySettings(read), await readChannels(read, [])]),
    ).rejects.toMatchObject({
      problems: [
        'CAPILLARY_LOYALTY_PROGRAM_ID must be a Capillary loyalty program id (a positive whole number)',
        'MEMBER_CARD_TEXTS.title uses {points}; it may use no placeholder',
        'LINE_CHANNELS[0] (id "th"): richMenusByTier["Gold"] must be a rich menu id (richmenu- and 32 hex digits) or an alias id (a-z 0-9 _ -, ≤ 32)',
      ],
    });
  });

  it('gives the single channel the map of LINE_RICH_MENUS_BY_TIER', async () => {
    const env = { LINE_RICH_MENUS_BY_TIER: '{"gold": "gold-menu"}', CAPILLARY_LINE_ACCOUNT_ID: 'a' };
    const channels = await readConfig(env, noSecrets, (read) => readChannels(read, []));
    expect(channels.all[0]?.loyalty?.richMenusByTier?.byName.get('gold')).toEqual({ aliasId: 'gold-menu' });
  });
});
