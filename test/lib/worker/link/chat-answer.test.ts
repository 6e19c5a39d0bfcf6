import type { LineMessage } from '../../../../lib/line/link-token-client';
import { answerInChat, retryKeyOf } from '../../../../lib/worker/link/chat-answer';
import type { LinkContext } from '../../../../lib/worker/link/link-context';

const USER = `U${'b'.repeat(32)}`;
const NOW = 1_700_000_000_000;
const MESSAGES: LineMessage[] = [{ type: 'text', text: 'hello' }];

/** A chat client that records what it was asked to send; LINE accepts the reply token unless told otherwise. */
function chatDouble({ replyAccepted = true } = {}) {
  const sent: { via: 'reply' | 'push'; to: string; retryKey?: string }[] = [];
  return {
    sent,
    chat: {
      reply: async (replyToken: string) => {
        sent.push({ via: 'reply', to: replyToken });
        return replyAccepted;
      },
      push: async (userId: string, _messages: LineMessage[], retryKey: string) => {
        sent.push({ via: 'push', to: userId, retryKey });
      },
    },
  };
}

const contextFor = (chat: object, event: { ageMs: number; replyToken?: string; webhookEventId?: string }) =>
  ({
    channel: { chat },
    claimed: { key: { destination: 'Ubot', userId: USER } },
    facts: {
      webhookEventId: event.webhookEventId ?? '01EVENT',
      timestamp: NOW - event.ageMs,
      replyToken: event.replyToken,
    },
    settings: { replyTokenMaxAgeMs: 50_000 },
    now: NOW,
  }) as unknown as LinkContext;

describe('answerInChat', () => {
  it('answers by reply while the reply token is fresh', async () => {
    const { chat, sent } = chatDouble();
    await answerInChat(contextFor(chat, { ageMs: 1000, replyToken: 'R' }), MESSAGES);
    expect(sent).toEqual([{ via: 'reply', to: 'R' }]);
  });

  it('pushes, without trying the reply, once the reply token is too old or absent', async () => {
    for (const event of [{ ageMs: 50_000, replyToken: 'R' }, { ageMs: 0 }]) {
      const { chat, sent } = chatDouble();
      await answerInChat(contextFor(chat, event), MESSAGES);
      expect(sent).toEqual([{ via: 'push', to: USER, retryKey: retryKeyOf('01EVENT') }]);
    }
  });

  it('pushes when LINE refuses the reply token', async () => {
    const { chat, sent } = chatDouble({ replyAccepted: false });
    await answerInChat(contextFor(chat, { ageMs: 1000, replyToken: 'R' }), MESSAGES);
    expect(sent).toEqual([
      { via: 'reply', to: 'R' },
      { via: 'push', to: USER, retryKey: retryKeyOf('01EVENT') },
    ]);
  });
});

describe('retryKeyOf', () => {
  it("is a version 4 UUID of the event's id: the same for the event's retries, another for another event", () => {
    const key = retryKeyOf('01EVENT');
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(retryKeyOf('01EVENT')).toBe(key);
    expect(retryKeyOf('01OTHER')).not.toBe(key);
  });
});
