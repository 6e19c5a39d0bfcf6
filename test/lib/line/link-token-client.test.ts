import { LineApiError } from '../../../lib/line/errors';
import { LineChatClient } from '../../../lib/line/link-token-client';
import { lineUserId } from '../../../local/line-event-factory';
import { LOCAL_CREDENTIALS } from '../../../local/local-credentials';
import { startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';

const text = (body: string) => ({ type: 'text', text: body });

describe('LineChatClient against the LINE stand-in', () => {
  let line: LineStandIn;
  const chat = (channelAccessToken: string = LOCAL_CREDENTIALS.lineChannelAccessToken) =>
    new LineChatClient({ channelAccessToken, baseUrl: line.url, timeoutMs: 5000, sleep: async () => {} });

  beforeEach(async () => {
    line = await startLineStandIn();
  });
  afterEach(() => line.close());

  describe('issueLinkToken', () => {
    it('answers the link token LINE issued for the user', async () => {
      const userId = lineUserId();

      const linkToken = await chat().issueLinkToken(userId);

      expect(line.state().linkTokens).toEqual([expect.objectContaining({ linkToken, userId, used: false })]);
    });

    it('throws LineApiError with the status and message when LINE refuses, without repeating the call', async () => {
      const userId = lineUserId();
      line.setBlocked(userId, true);

      const issue = chat().issueLinkToken(userId);

      await expect(issue).rejects.toBeInstanceOf(LineApiError);
      await expect(issue).rejects.toMatchObject({ operation: 'issue-link-token', status: 400 });
      await expect(issue).rejects.toThrow('(The user is not a friend of the bot)');
      expect(line.calls()).toHaveLength(1);
    });

    it('throws LineApiError when the answer carries no link token', async () => {
      const fetchSpy = jest.spyOn(globalThis, 'fetch').mockResolvedValue(Response.json({}));
      try {
        await expect(chat().issueLinkToken(lineUserId())).rejects.toMatchObject({
          name: 'LineApiError',
          status: 200,
          message: 'LINE issue-link-token failed: HTTP 200 (no linkToken in the answer)',
        });
      } finally {
        fetchSpy.mockRestore();
      }
    });
  });

  describe('reply', () => {
    it('answers true once LINE took the reply, false when the reply token was used already', async () => {
      expect(await chat().reply('reply-token-1', [text('Linked')])).toBe(true);
      expect(await chat().reply('reply-token-1', [text('Linked again')])).toBe(false);
      expect(line.state().sent).toEqual([{ via: 'reply', replyToken: 'reply-token-1', messages: [text('Linked')] }]);
    });

    it('throws any other failure, once: a reply is never repeated', async () => {
      line.injectFault({ status: 503, times: 1, pathPrefix: '/v2/bot/message/reply' });
      await expect(chat().reply('reply-token-1', [text('Linked')])).rejects.toMatchObject({
        name: 'LineApiError',
        operation: 'reply',
        status: 503,
      });
      expect(line.calls().map((c) => c.status)).toEqual([503]);
      await expect(chat('wrong').reply('reply-token-2', [text('Linked')])).rejects.toMatchObject({ status: 401 });
    });
  });

  describe('push', () => {
    it('sends the messages with the retry key; a repeat with the same key (409) counts as sent', async () => {
      const userId = lineUserId();

      await chat().push(userId, [text('Linked')], 'retry-key-1');
      await chat().push(userId, [text('Linked')], 'retry-key-1');

      expect(line.calls().map((c) => c.status)).toEqual([200, 409]);
      expect(line.state().sent).toEqual([{ via: 'push', to: userId, messages: [text('Linked')] }]);
    });

    it('throws LineApiError when LINE refuses the push', async () => {
      await expect(chat().push(lineUserId(), [], 'retry-key-1')).rejects.toMatchObject({
        name: 'LineApiError',
        operation: 'push',
        status: 400,
      });
    });
  });
});
