import { createHash } from 'node:crypto';

import type { LineMessage } from '../../line/link-token-client';
import type { LinkChannel, LinkContext } from './link-context';

/** What an answer needs: the event, its user (a claimed record's key) and the channel's chat. */
export type ChatAnswerContext = Pick<LinkContext, 'facts' | 'settings' | 'now'> & {
  channel: Pick<LinkChannel, 'chat'>;
  claimed: Pick<LinkContext['claimed'], 'key'>;
};

/** By reply token while it is fresh, else (or when LINE refuses it) by push, at most once per event. */
export async function answerInChat(
  { channel, claimed, facts, settings, now }: ChatAnswerContext,
  messages: LineMessage[],
): Promise<void> {
  const fresh = now - facts.timestamp < settings.replyTokenMaxAgeMs;
  if (facts.replyToken !== undefined && fresh && (await channel.chat.reply(facts.replyToken, messages))) return;
  await channel.chat.push(claimed.key.userId, messages, retryKeyOf(facts.webhookEventId));
}

/** LINE's X-Line-Retry-Key is a UUID; one per event, so the event's retries push at most once. */
export function retryKeyOf(webhookEventId: string): string {
  const hex = createHash('sha256').update(webhookEventId).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
