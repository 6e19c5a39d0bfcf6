import type { CapillaryHttpClient } from '../../lib/capillary/http-client';
import { inTouchSettings, subscribe, webhookAccount } from '../../ops/capillary-notifications';

const account = webhookAccount('prod-default', 'https://api.example/capillary/notifications', 'T'.repeat(40));

describe('the Capillary webhook account of a stage', () => {
  it('subscribes the two events the bridge applies, with the Bearer token as its static header', () => {
    expect(account).toMatchObject({
      name: 'line-capillary-bridge-prod-default',
      webHookUrl: 'https://api.example/capillary/notifications',
      methodType: 'POST',
      webHookType: 'HTTP',
      eventNames: ['loyaltyCustomerMerge', 'requestUpdated'],
      webHookHeaders: { Authorization: `Bearer ${'T'.repeat(40)}` },
      active: true,
    });
    expect(inTouchSettings(account).join('\n')).not.toContain('T'.repeat(40));
  });

  it('registers it with POST /v3/webHooks and answers its id; a refusal names Capillary codes', async () => {
    const calls: unknown[][] = [];
    const http = (status: number, body: unknown) =>
      ({
        request: async (...args: unknown[]) => {
          calls.push(args);
          return { status, body, requestId: 'r', attempts: 1 };
        },
      }) as unknown as CapillaryHttpClient;
    expect(await subscribe(http(200, { data: { webHookId: 42 } }), account)).toBe('42');
    expect(calls[0]?.slice(1, 4)).toEqual(['POST', '/v3/webHooks', account]);
    await expect(subscribe(http(400, { errors: [{ code: 1001, message: 'name taken' }] }), account)).rejects.toThrow(
      /HTTP 400: 1001 name taken/,
    );
  });
});
