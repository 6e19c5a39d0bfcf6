/**
 * What an operator needs after a redrive: which events moved, and where to see what the worker makes of them. The
 * local pipeline reports outcomes itself (scripts/redrive.ts follows its worker); for a deployed stage these lines
 * point at the worker's logs, the DLQ depth and the dashboard (docs/operations.md#redrive).
 */
import { maskUserId } from '../lib/observability/telemetry';
import { parseQueuedEvent, type QueuedLineEvent } from '../lib/queue/queued-event';
import type { RedriveResult } from './redrive';

/** The bridge's events among the moved bodies, in the order they moved; anything else moved all the same. */
export function movedEvents(movedBodies: string[]): QueuedLineEvent[] {
  return movedBodies.flatMap((body) => {
    try {
      return [parseQueuedEvent(body)];
    } catch {
      return [];
    }
  });
}

export interface DeployedTarget {
  /** undefined when the queues were given by URL */
  stage?: string;
  region: string;
  dlqUrl: string;
}

export function deployedFollowUp(result: RedriveResult, target: DeployedTarget): string[] {
  const events = movedEvents(result.movedBodies).map(({ event }) => event);
  const logGroup = target.stage ? `/aws/lambda/line-capillary-bridge-${target.stage}-worker` : "the worker's log group";
  const filter =
    events.length > 0
      ? `filter eventId in [${events.map((event) => `"${event.webhookEventId}"`).join(', ')}]`
      : 'filter message like /Event (applied|skipped|failed)/';
  const moved =
    events.length > 0
      ? [
          'Moved events:',
          ...events.map(
            (event) => `  ${event.webhookEventId}  ${event.type}  ${maskUserId(event.source?.userId) ?? '-'}`,
          ),
        ]
      : result.mode === 'task'
        ? ['(An SQS message move task does not say which messages it moved; --mode copy lists them.)']
        : [];
  return [
    ...moved,
    'Follow them:',
    `  worker logs   ${logGroup}, CloudWatch Logs Insights: fields @timestamp, message, eventId, user | ${filter}`,
    `  DLQ depth     aws sqs get-queue-attributes --region ${target.region} --queue-url ${target.dlqUrl} --attribute-names ApproximateNumberOfMessages`,
    ...(target.stage
      ? [`  dashboard     the DashboardUrl output of stage ${target.stage} (docs/operations.md#dashboard)`]
      : []),
  ];
}
