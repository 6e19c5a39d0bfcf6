import { readConfig } from '../../../lib/config/env-reader';
import { readWorkerLinkSettings } from '../../../lib/config/link-config';
import { noSsm, problemsOf } from './config-fixtures';

const read = (env: Record<string, string>) => readConfig(env, noSsm, readWorkerLinkSettings);

describe('readWorkerLinkSettings', () => {
  it('reads the chat triggers, the link page and how a member is attached', async () => {
    const settings = await read({
      LINK_POSTBACK_DATA: 'do=link',
      UNLINK_POSTBACK_DATA: 'do=unlink',
      LINK_KEYWORD: 'link my card',
      LINK_PAGE_URL: 'https://brand.example/link?token={linkToken}',
      CAPILLARY_LINK_METHOD: 'change-identifier',
      CAPILLARY_MERGE_AUTO_APPROVE: 'true',
      CAPILLARY_LINK_ANONYMOUS: 'merge-request',
      LINE_REPLY_TOKEN_MAX_AGE_SECONDS: '0',
      LINE_API_TIMEOUT_MS: '30000',
    });
    expect(settings).toEqual({
      chat: { linkPostbackData: 'do=link', unlinkPostbackData: 'do=unlink', linkKeyword: 'link my card' },
      linkPageUrl: 'https://brand.example/link?token={linkToken}',
      attachMethod: 'change-identifier',
      mergeAutoApprove: true,
      anonymousCustomer: 'merge-request',
      replyTokenMaxAgeMs: 0,
      lineApiTimeoutMs: 30_000,
    });
  });

  it('lists every wrong setting', async () => {
    const env = {
      CAPILLARY_MERGE_AUTO_APPROVE: 'yes',
      LINE_REPLY_TOKEN_MAX_AGE_SECONDS: '3601',
      LINE_API_TIMEOUT_MS: '30001',
    };
    expect(await problemsOf(read(env))).toEqual([
      'CAPILLARY_MERGE_AUTO_APPROVE must be one of true, false, got "yes"',
      'LINE_REPLY_TOKEN_MAX_AGE_SECONDS must be an integer from 0 to 3600, got "3601"',
      'LINE_API_TIMEOUT_MS must be an integer from 100 to 30000, got "30001"',
    ]);
  });
});
