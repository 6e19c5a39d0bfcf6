/**
 * The settings of linking (docs/architecture.md#linking) as the worker reads them: the chat triggers,
 * the brand's link page, and how a LINE follower is attached to a Capillary member.
 */
import type { AnonymousCustomerMode, AttachMethod, ChatLinkSettings } from '../domain/link-rules';
import { DEFAULTS } from './defaults';
import type { EnvReader } from './env-reader';
import { readLineApiTimeoutMs } from './line-api';

export interface WorkerLinkSettings {
  chat: ChatLinkSettings;
  /** the brand's page, `{linkToken}` replaced; undefined = linking from chat is off */
  linkPageUrl: string | undefined;
  attachMethod: AttachMethod;
  mergeAutoApprove: boolean;
  anonymousCustomer: AnonymousCustomerMode;
  /** a reply token older than this is not tried: the answer is pushed */
  replyTokenMaxAgeMs: number;
  lineApiTimeoutMs: number;
}

/** The chat triggers of linking: the worker acts on them, the webhook keeps them off the engagement queue. */
export const readChatLinkSettings = (read: EnvReader): ChatLinkSettings => ({
  linkPostbackData: read.optional('LINK_POSTBACK_DATA') ?? DEFAULTS.LINK_POSTBACK_DATA,
  unlinkPostbackData: read.optional('UNLINK_POSTBACK_DATA') ?? DEFAULTS.UNLINK_POSTBACK_DATA,
  linkKeyword: read.optional('LINK_KEYWORD'),
});

export function readWorkerLinkSettings(read: EnvReader): WorkerLinkSettings {
  const linkPageUrl = read.optional('LINK_PAGE_URL');
  if (linkPageUrl !== undefined) read.url('LINK_PAGE_URL');
  return {
    chat: readChatLinkSettings(read),
    linkPageUrl,
    attachMethod: read.oneOf(
      'CAPILLARY_LINK_METHOD',
      ['add-profile', 'change-identifier'] as const,
      DEFAULTS.CAPILLARY_LINK_METHOD,
    ),
    mergeAutoApprove: read.flag('CAPILLARY_MERGE_AUTO_APPROVE', DEFAULTS.CAPILLARY_MERGE_AUTO_APPROVE),
    anonymousCustomer: read.oneOf(
      'CAPILLARY_LINK_ANONYMOUS',
      ['detach', 'merge-request', 'keep'] as const,
      DEFAULTS.CAPILLARY_LINK_ANONYMOUS,
    ),
    replyTokenMaxAgeMs:
      read.integer('LINE_REPLY_TOKEN_MAX_AGE_SECONDS', DEFAULTS.LINE_REPLY_TOKEN_MAX_AGE_SECONDS, 0, 3600) * 1000,
    lineApiTimeoutMs: readLineApiTimeoutMs(read, 30_000),
  };
}
