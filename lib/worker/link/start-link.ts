import { linkPageUrl } from '../../domain/link-rules';
import { LineApiError } from '../../line/errors';
import { countForChannel, countLinkRejected } from '../../observability/telemetry';
import { answerInChat } from './chat-answer';
import type { LinkContext, LinkOutcome } from './link-context';
import { linkPageMessage } from './texts';

/** LINE's link tokens are valid for 10 minutes (docs/line.md#account-link). */
const LINK_TOKEN_VALIDITY_MS = 10 * 60 * 1000;

/** The user asked in chat: issue a link token and answer with the brand's page carrying it. */
export async function startLink(link: LinkContext): Promise<LinkOutcome> {
  const { claimed, channel, settings, log } = link;
  if (settings.linkPageUrl === undefined) {
    await claimed.complete({});
    log.warn('Link requested in chat but LINK_PAGE_URL is not set: nothing sent');
    return { result: 'rejected', reason: 'link-page-not-configured' };
  }
  const sent = await sendLinkPage(link, settings.linkPageUrl);
  if (sent !== 'sent') {
    await claimed.complete({ recordEvent: false });
    countLinkRejected(channel.id, 'refused-by-line');
    log.warn('LINE refused the link token or the answer; acknowledged, not retried', {
      operation: sent.operation,
      status: sent.status,
    });
    return { result: 'rejected', reason: 'refused-by-line' };
  }
  await claimed.complete({});
  countForChannel('LinkStarted', channel.id);
  log.info('Link token issued and the link page sent');
  return { result: 'link', action: 'link-started' };
}

/** LINE refusing for good is an answer (returned); anything else throws, and the event is retried. */
async function sendLinkPage(link: LinkContext, pageUrl: string): Promise<'sent' | LineApiError> {
  const { claimed, channel, nonces, now } = link;
  try {
    const linkToken = await channel.chat.issueLinkToken(claimed.key.userId);
    await nonces.saveLinkToken(linkToken, claimed.key, now + LINK_TOKEN_VALIDITY_MS);
    await answerInChat(link, [linkPageMessage(linkPageUrl(pageUrl, linkToken))]);
    return 'sent';
  } catch (error) {
    if (refusedForGood(error)) return error;
    throw error;
  }
}

/** A 4xx other than 429 (the user blocked the account since, say); throttling, 5xx and timeouts are retried. */
export function refusedForGood(error: unknown): error is LineApiError {
  return (
    error instanceof LineApiError &&
    typeof error.status === 'number' &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 429
  );
}
