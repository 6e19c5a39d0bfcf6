import { CapillaryApiError } from '../../../lib/capillary/errors';
import type { CapillaryHttpClient } from '../../../lib/capillary/http-client';
import { readLineSubscription } from '../../../ops/reconcile/subscription-reader';

const ACCOUNT = '2001914141242';
const CALL = { deadlineAt: Number.POSITIVE_INFINITY };

/** A client that answers every request with `body` (status 200 unless told) and records what was asked. */
function answering(body: Record<string, unknown>, status = 200) {
  const requests: unknown[][] = [];
  const http = {
    request: async (...args: unknown[]) => {
      requests.push(args);
      return { status, body, requestId: 'req-1', attempts: 1 };
    },
  } as unknown as CapillaryHttpClient;
  return { http, requests };
}

const line = (priority: string, type: string, accountId = ACCOUNT, channel = 'LINE') => ({
  channel,
  priority,
  type,
  accountId,
});

describe('readLineSubscription', () => {
  it("reads GET /v2/customers/{id}/subscriptions with the caller's deadline", async () => {
    const { http, requests } = answering({ subscriptions: [] });
    // Act
    await readLineSubscription(http, ACCOUNT, 42, CALL);
    // Assess
    expect(requests).toEqual([['read-subscription', 'GET', '/v2/customers/42/subscriptions', undefined, CALL]]);
  });

  it.each([
    ['both priorities opted in', [line('BULK', 'OPTIN'), line('TRANS', 'OPTIN')], 'OPTIN'],
    ['the channel spelled in lower case', [line('BULK', 'OPTIN', ACCOUNT, 'line'), line('TRANS', 'OPTIN')], 'OPTIN'],
    ['one priority opted out', [line('BULK', 'OPTIN'), line('TRANS', 'OPTOUT')], 'OPTOUT'],
    ['only one priority opted in', [line('BULK', 'OPTIN')], 'none'],
    ['no subscription at all', [], 'none'],
    [
      'an opt-out of another LINE account only',
      [line('BULK', 'OPTOUT', '999'), line('TRANS', 'OPTOUT', '999')],
      'none',
    ],
    [
      'an SMS opt-out beside a LINE opt-in',
      [line('BULK', 'OPTOUT', ACCOUNT, 'SMS'), line('BULK', 'OPTIN'), line('TRANS', 'OPTIN')],
      'OPTIN',
    ],
  ])('%s → %s', async (_case, subscriptions, expected) => {
    const { http } = answering({ subscriptions });
    // Act
    const state = await readLineSubscription(http, ACCOUNT, 42, CALL);
    // Assess
    expect(state).toBe(expected);
  });

  it('throws CapillaryApiError with the codes when Capillary refuses the read', async () => {
    const { http } = answering({ errors: [{ code: 8015, message: 'customer not found' }] }, 200);
    // Act
    const reading = readLineSubscription(http, ACCOUNT, 42, CALL);
    // Assess
    await expect(reading).rejects.toBeInstanceOf(CapillaryApiError);
    await expect(reading).rejects.toMatchObject({ operation: 'read-subscription', codes: [8015], requestId: 'req-1' });
  });

  it('throws CapillaryApiError on an HTTP failure without codes', async () => {
    const { http } = answering({}, 500);
    // Act / Assess
    await expect(readLineSubscription(http, ACCOUNT, 42, CALL)).rejects.toMatchObject({ status: 500, codes: [] });
  });
});
