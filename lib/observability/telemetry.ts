import { createHash } from 'node:crypto';

import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';

import { TELEMETRY } from '../config/defaults';
import { InvocationLogger, InvocationMetrics } from './invocation-telemetry';

/**
 * The service name and metrics namespace are the product's, not a deployment's (the alarms in
 * serverless.yml name the same namespace); the log level comes from POWERTOOLS_LOG_LEVEL.
 */
export const logger = new InvocationLogger({ serviceName: TELEMETRY.serviceName });
export const metrics = new InvocationMetrics({
  serviceName: TELEMETRY.serviceName,
  namespace: TELEMETRY.metricsNamespace,
});
export { MetricUnit };

/**
 * Whether a DEBUG line would be written (the logger keeps its level). Ask before a DEBUG line on a hot path: a filtered
 * `logger.debug` still reads the environment and splits the X-Ray trace header before it drops the line.
 */
export const debugEnabled = (): boolean => logger.level <= LogLevelThreshold.DEBUG;

/**
 * Logs never carry a raw LINE user id: a short stable hash still lets an operator follow one user
 * through the logs (hash the id they are looking for to find it).
 */
export function maskUserId(userId: string | undefined): string | undefined {
  if (userId === undefined) return undefined;
  return `u_${createHash('sha256').update(userId).digest('hex').slice(0, 12)}`;
}

const dimensionValues = (dimensions: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(dimensions).map(([key, value]) => [key, value.slice(0, 64)]));

/**
 * One count published with the channel (which LINE channel it was, for dashboards and the runbook) and
 * without it (the total, whatever channels a stage has). The dashboard draws each from its own schema
 * (docs/operations.md#dashboard).
 */
export function countForChannel(
  name: string,
  channel: string,
  value = 1,
  dimensions: Record<string, string> = {},
): void {
  const withChannel = metrics.singleMetric();
  withChannel.addDimensions(dimensionValues({ channel, ...dimensions }));
  const alone = Object.keys(dimensions).length === 0;
  if (alone) withChannel.addDimensions({}); // the total as a second dimension set of the same record
  withChannel.addMetric(name, MetricUnit.Count, value);
  if (alone) return;
  // A key may belong to one dimension set of a record only: the total with the same dimensions is its own record.
  const total = metrics.singleMetric();
  total.addDimensions(dimensionValues(dimensions));
  total.addMetric(name, MetricUnit.Count, value);
}

/** Ignored events are counted per LINE event type (a dimension, since LINE keeps adding types). */
export const countIgnored = (channel: string, eventType: string): void =>
  countForChannel('EventIgnored', channel, 1, { eventType });

/** Capillary failures by operation and code (an errors[] code, an HTTP status, or timeout/network-error). */
export const countCapillaryError = (channel: string, operation: string, code: string): void =>
  countForChannel('CapillaryError', channel, 1, { operation, code });

/** Links refused (unknown / expired / consumed nonce, impersonation, LINE's failed) and links failed (member not found, …), by reason. */
export const countLinkRejected = (channel: string, reason: string): void =>
  countForChannel('LinkRejected', channel, 1, { reason });
export const countLinkFailed = (channel: string, reason: string): void =>
  countForChannel('LinkFailed', channel, 1, { reason });

/** Adds the Lambda context to every log line and flushes the invocation's metrics (EMF) at the end. */
export function withTelemetry<E, C extends { awsRequestId: string }, R>(handler: (event: E, context: C) => Promise<R>) {
  return async (event: E, context: C): Promise<R> => {
    logger.addContext(context as never);
    try {
      return await handler(event, context);
    } finally {
      // A Verify request or an ignored event records nothing.
      metrics.publishIfStored();
    }
  };
}
