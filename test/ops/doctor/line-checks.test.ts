import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';
import type { CheckResult } from '../../../ops/doctor/check';
import { checkLineChannel, richMenuIdsOf, type LineChannelTarget } from '../../../ops/doctor/line-checks';
import { closedAfterEach } from '../../support/closed-after-each';

const TOKEN = 'doctor-test-token';
const BOT = 'U0123456789abcdef0123456789abcdef';
const startStandIn = closedAfterEach(startLineStandIn);

/** A webhook that answers every request with `status`. */
const startWebhook = closedAfterEach(async (options?: { status: number }) => {
  const server = createServer((_request, response) => response.writeHead(options?.status ?? 200).end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/line/webhook/th`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
});

async function healthyChannel(): Promise<{ standIn: LineStandIn; channel: LineChannelTarget }> {
  const webhook = await startWebhook();
  const standIn = await startStandIn({
    channelAccessToken: TOKEN,
    channels: [{ channelAccessToken: TOKEN, botUserId: BOT, webhookEndpoint: webhook.url, webhookActive: true }],
  });
  const channel = {
    id: 'th',
    channelAccessToken: TOKEN,
    destination: BOT,
    expectedWebhookUrl: webhook.url,
    richMenuIds: [],
  };
  return { standIn, channel };
}

const check = (standIn: LineStandIn, channel: LineChannelTarget, testWebhook = true) =>
  checkLineChannel(channel, { apiBaseUrl: standIn.url, testWebhook, settingsHint: 'the settings' });
const named = (results: CheckResult[], name: string) => results.find((result) => result.check === name);
const fault = (standIn: LineStandIn, rule: object) =>
  fetch(`${standIn.url}/__admin/faults`, { method: 'POST', body: JSON.stringify(rule) });
const reconfigure = (standIn: LineStandIn, patch: object) =>
  fetch(`${standIn.url}/__admin/channels`, {
    method: 'POST',
    body: JSON.stringify({ channelAccessToken: TOKEN, ...patch }),
  });

describe('doctor: LINE checks', () => {
  it('passes every check of a channel set up as the stage expects', async () => {
    // Prepare
    const { standIn, channel } = await healthyChannel();
    // Act
    const results = await check(standIn, channel);
    // Assess
    expect(results.map(({ check: name, status }) => [name, status])).toEqual([
      ['access token', 'pass'],
      ['bot user id', 'pass'],
      ['webhook endpoint', 'pass'],
      ['webhook test', 'pass'],
      ['followers list', 'pass'],
      ['LINE Login channel', 'pass'],
      ['rich menus', 'pass'],
    ]);
  });

  it.each([
    [
      'access token',
      (standIn: LineStandIn) => fault(standIn, { status: 401, pathPrefix: '/v2/bot/info', times: 1 }),
      /issue a new channel access token/,
    ],
    [
      'bot user id',
      (standIn: LineStandIn) => reconfigure(standIn, { botUserId: `U${'f'.repeat(32)}` }),
      new RegExp(`set the channel's destination to U${'f'.repeat(32)}`),
    ],
    [
      'webhook endpoint',
      (standIn: LineStandIn) => reconfigure(standIn, { webhookEndpoint: 'https://old.example.com/line/webhook/th' }),
      /set the Webhook URL to http:\/\/127\.0\.0\.1/,
    ],
    [
      'webhook endpoint',
      (standIn: LineStandIn) => reconfigure(standIn, { webhookActive: false }),
      /turn on "Use webhook"/,
    ],
    [
      'webhook test',
      async (standIn: LineStandIn) =>
        reconfigure(standIn, { webhookEndpoint: (await startWebhook({ status: 401 })).url }),
      /channel secret/,
    ],
  ])('fails %s and names the fix (%#)', async (name, breakIt, fix) => {
    // Prepare
    const { standIn, channel } = await healthyChannel();
    await breakIt(standIn);
    // Act
    const testing = name === 'webhook test';
    const results = await check(
      standIn,
      { ...channel, ...(testing ? { expectedWebhookUrl: undefined } : {}) },
      testing,
    );
    // Assess
    const failed = results.filter(({ status }) => status === 'fail');
    expect(failed.map(({ check: failedCheck }) => failedCheck)).toEqual([name]);
    expect(failed[0]?.fix).toMatch(fix);
  });

  it('says a follower list is not available (no backfill) without failing the run', async () => {
    // Prepare
    const { standIn, channel } = await healthyChannel();
    await fetch(`${standIn.url}/__admin/config`, { method: 'POST', body: JSON.stringify({ verified: false }) });
    // Act
    const followers = named(await check(standIn, channel, false), 'followers list');
    // Assess
    expect(followers).toMatchObject({
      status: 'unknown',
      detail: expect.stringContaining('neither Verified nor Premium'),
    });
  });

  it('fails a LINE Login channel id that is not one, and rich menus LINE does not have', async () => {
    // Prepare
    const { standIn, channel } = await healthyChannel();
    // Act
    const results = await check(
      standIn,
      { ...channel, lineLoginChannelId: 'login', richMenuIds: ['richmenu-gone'] },
      false,
    );
    // Assess
    expect(named(results, 'LINE Login channel')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('Channel ID (10 digits)'),
    });
    expect(named(results, 'rich menus')).toMatchObject({
      status: 'fail',
      detail: 'LINE has no rich menu richmenu-gone',
    });
  });

  it('skips the other checks when the token does not work', async () => {
    // Prepare
    const { standIn, channel } = await healthyChannel();
    // Act
    const results = await check(standIn, { ...channel, channelAccessToken: 'revoked' }, false);
    // Assess
    expect(results.map(({ status }) => status)).toEqual(['fail', 'unknown', 'unknown', 'unknown', 'unknown']);
  });
});

describe('richMenuIdsOf', () => {
  it('reads the ids of a tier map, as JSON text or an object, and anything else as none', () => {
    expect(richMenuIdsOf('{"gold":"richmenu-a","silver":"richmenu-b","bronze":"richmenu-a"}')).toEqual([
      'richmenu-a',
      'richmenu-b',
    ]);
    expect(richMenuIdsOf({ gold: 'richmenu-a', none: '' })).toEqual(['richmenu-a']);
    expect(richMenuIdsOf('not json')).toEqual([]);
    expect(richMenuIdsOf(undefined)).toEqual([]);
  });
});
