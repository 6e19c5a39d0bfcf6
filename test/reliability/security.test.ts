/**
 * Security properties: the signature check is constant-time, and the logs of a run through the whole
 * pipeline carry no LINE user id, display name, phone number or secret. The scanner here is the one the
 * chaos suites run over their (fault-ridden) runs; this suite also proves it can see a leak.
 */
import crypto from 'node:crypto';

import { isValidLineSignature } from '../../lib/line/signature';
import { logger } from '../../lib/observability/telemetry';
import { handleWebhookRequest } from '../../lib/webhook/handle-webhook-request';
import { startChaosServices, type ChaosServices } from '../../local/chaos/chaos-services';
import { captureAndScanLogs, personalDisplayName, scanLogsDuring } from '../../local/chaos/log-scan';
import { playScenario, QUICK_FLEET } from '../../local/chaos/play-scenario';
import { scriptedScenario } from '../../local/chaos/scenario';
import { callbackBody, followEvent, lineUserId } from '../../local/line-event-factory';
import { signedWebhookRequest, webhookConfigFor } from '../../local/rigs/webhook-rig';
import { LOCAL_CHANNEL_SECRET } from '../../local/sample-events';
import { signLineBody } from '../../local/sign-line-body';

/** The valid signature of the body with one bit flipped: same length, so only the comparison can reject it. */
function sameLengthWrongSignature(body: string): string {
  const digest = Buffer.from(signLineBody(body, LOCAL_CHANNEL_SECRET), 'base64');
  digest[digest.length - 1]! ^= 1;
  return digest.toString('base64');
}

describe('x-line-signature comparison', () => {
  afterEach(() => jest.restoreAllMocks());

  it('rejects a wrong signature of the right length through crypto.timingSafeEqual, a constant-time comparison', () => {
    // Prepare
    const body = callbackBody([followEvent(lineUserId(), 1)]);
    const wrong = sameLengthWrongSignature(body);
    const timingSafeEqual = jest.spyOn(crypto, 'timingSafeEqual');
    // Act
    const accepted = isValidLineSignature(Buffer.from(body), [LOCAL_CHANNEL_SECRET], wrong);
    // Assess
    expect(accepted).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
    const [expected, received] = timingSafeEqual.mock.calls[0]!;
    expect([expected.byteLength, received.byteLength]).toEqual([32, 32]);
  });

  it('answers 401 to such a request and queues nothing', async () => {
    // Prepare
    const body = callbackBody([followEvent(lineUserId(), 1)]);
    const timingSafeEqual = jest.spyOn(crypto, 'timingSafeEqual');
    const send = jest.fn();
    // Act
    const response = await handleWebhookRequest(
      signedWebhookRequest(body, { signature: sameLengthWrongSignature(body) }),
      {
        config: webhookConfigFor('http://127.0.0.1:1/queue.fifo'),
        sqs: { send } as never,
      },
    );
    // Assess
    expect(response.statusCode).toBe(401);
    expect(timingSafeEqual).toHaveBeenCalled();
    expect(send).not.toHaveBeenCalled();
  });
});

describe('logs', () => {
  let services: ChaosServices;
  beforeAll(async () => {
    services = await startChaosServices();
  });
  afterAll(() => services.close());

  it('are scanned well enough to catch a leaked user id, display name, phone number and token', () => {
    // Prepare
    const userId = lineUserId();
    const capture = captureAndScanLogs(services.secrets);
    // Act
    logger.info('a careless log line', {
      userId,
      displayName: personalDisplayName(userId),
      token: services.secrets.channels[0]!.channelAccessToken,
    });
    const scan = capture.stop();
    // Assess
    expect(scan.findings).toEqual({
      'LINE user id': 1,
      'display name': 1,
      'phone number': 1,
      'channel access token': 1,
    });
    expect(scan.examples.join('\n')).not.toContain(userId);
  });

  it('of a run through webhook, queue and worker hold no personal data or secret', async () => {
    // Prepare: registrations (display names with phone numbers), opt-outs, an unfollow of an unknown user
    const scenario = scriptedScenario({
      histories: [
        [
          ['follow', 0],
          ['unfollow', 0],
          ['unblock', 0],
        ],
        [['follow', 0]],
        [['unfollow', 0]],
      ],
    });
    // Act
    const { result, logScan } = await scanLogsDuring(services.secrets, () =>
      playScenario(services, QUICK_FLEET, scenario),
    );
    // Assess
    expect(result.problems).toEqual([]);
    expect(logScan.lines).toBeGreaterThan(result.figures.events);
    expect({ findings: logScan.findings, examples: logScan.examples }).toEqual({ findings: {}, examples: [] });
  }, 30_000);
});
