import { maskUserId } from '../../lib/observability/telemetry';
import { serializeQueuedEvent } from '../../lib/queue/queued-event';
import { followEvent } from '../../local/line-event-factory';
import type { RedriveResult } from '../../ops/redrive';
import { deployedFollowUp, movedEvents } from '../../ops/redrive-follow-up';

const DESTINATION = 'U1f2e3d4c5b6a79880011223344556677';
const USER = 'Ue0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0';
const target = {
  stage: 'prod',
  region: 'ap-northeast-1',
  dlqUrl: 'https://sqs.ap-northeast-1.amazonaws.com/123/line-capillary-bridge-prod-events-dlq.fifo',
};
const result = (overrides: Partial<RedriveResult>): RedriveResult => ({
  mode: 'copy',
  moved: 0,
  failed: 0,
  deferred: 0,
  movedBodies: [],
  ...overrides,
});

describe('redrive follow-up', () => {
  it('lists each moved event, masked, and a Logs Insights filter for exactly those ids', () => {
    // Prepare
    const event = followEvent(USER, 1_767_500_000_000, { webhookEventId: '01JHDLQDEMO00000000000000E' });
    const movedBodies = [
      serializeQueuedEvent({ channel: 'default', destination: DESTINATION, event }),
      'not a bridge message',
    ];

    // Act
    const lines = deployedFollowUp(result({ moved: 2, movedBodies }), target);

    // Assess
    expect(movedEvents(movedBodies)).toEqual([{ channel: 'default', destination: DESTINATION, event }]);
    expect(lines).toEqual([
      'Moved events:',
      `  01JHDLQDEMO00000000000000E  follow  ${maskUserId(USER)}`,
      'Follow them:',
      '  worker logs   /aws/lambda/line-capillary-bridge-prod-worker, CloudWatch Logs Insights: fields @timestamp, message, eventId, user | filter eventId in ["01JHDLQDEMO00000000000000E"]',
      `  DLQ depth     aws sqs get-queue-attributes --region ap-northeast-1 --queue-url ${target.dlqUrl} --attribute-names ApproximateNumberOfMessages`,
      '  dashboard     the DashboardUrl output of stage prod (docs/operations.md#dashboard)',
    ]);
    expect(lines.join('\n')).not.toContain(USER);
  });

  it('says a move task does not tell which messages it moved, and filters on outcomes instead', () => {
    const lines = deployedFollowUp(result({ mode: 'task', moved: 7 }), {
      region: 'ap-northeast-1',
      dlqUrl: target.dlqUrl,
    });

    expect(lines[0]).toBe('(An SQS message move task does not say which messages it moved; --mode copy lists them.)');
    expect(lines[2]).toBe(
      "  worker logs   the worker's log group, CloudWatch Logs Insights: fields @timestamp, message, eventId, user | filter message like /Event (applied|skipped|failed)/",
    );
    expect(lines.some((line) => line.includes('dashboard'))).toBe(false);
  });
});
