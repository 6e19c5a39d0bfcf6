import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'line-capillary-bridge';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'LineCapillaryBridge' });
export { MetricUnit };

/**
 * Logs never carry a raw LINE user id: a short stable hash still lets an operator follow one user
 * through the logs (hash the id they are looking for to find it).
 */
export function maskUserId(userId: string | undefined): string | undefined {
  if (userId === undefined) return undefined;
  return `u_${createHash('sha256').update(userId).digest('hex').slice(0, 12)}`;
}

/** Ignored events are counted per LINE event type (a dimension, since LINE keeps adding types). */
export function countIgnored(eventType: string): void {
  const single = metrics.singleMetric();
  single.addDimension('eventType', eventType.slice(0, 64));
  single.addMetric('EventIgnored', MetricUnit.Count, 1);
}

/** Adds the Lambda context to every log line and flushes the invocation's metrics (EMF) at the end. */
export function withTelemetry<E, C extends { awsRequestId: string }, R>(handler: (event: E, context: C) => Promise<R>) {
  return async (event: E, context: C): Promise<R> => {
    logger.addContext(context as never);
    try {
      return await handler(event, context);
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
