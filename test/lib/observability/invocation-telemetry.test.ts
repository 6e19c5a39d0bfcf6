import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

import { InvocationLogger, InvocationMetrics } from '../../../lib/observability/invocation-telemetry';
import { lambdaContext } from '../../../local/lambda-context';
import { capturedOutput, metricRecords } from '../../support/captured-output';

const invocation = () => lambdaContext({ name: 'telemetry-test', memoryMb: 128, timeoutSeconds: 3 });

/** A logger of a container started on demand (Powertools reads that when it is built), at INFO. */
function onDemandLogger(severalAtOnce: boolean): InvocationLogger {
  const initializationType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  try {
    return new InvocationLogger({ serviceName: 'telemetry-test', logLevel: 'INFO' }, severalAtOnce);
  } finally {
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initializationType;
  }
}

/** How many times `action` reads AWS_LAMBDA_MAX_CONCURRENCY (Powertools' per-call check). */
function concurrencyReads(action: () => void): number {
  const env = process.env;
  let reads = 0;
  process.env = new Proxy(env, {
    get: (target, name) => {
      if (name === 'AWS_LAMBDA_MAX_CONCURRENCY') reads += 1;
      return target[name as string];
    },
  });
  try {
    action();
  } finally {
    process.env = env;
  }
  return reads;
}

describe('InvocationLogger', () => {
  afterEach(() => jest.restoreAllMocks());

  it('writes the context of the invocation a line is written in, cold start only for the first invocation', async () => {
    // Prepare
    const logger = onDemandLogger(false);
    const [first, second, third] = [invocation(), invocation(), invocation()];
    // Act: the cold invocation writes nothing
    const output = await capturedOutput(async () => {
      logger.addContext(first);
      logger.addContext(second);
      logger.info('second');
      logger.addContext(third);
      logger.info('third');
      logger.createChild({ persistentKeys: { child: true } }).info('third, from a child');
    });
    // Assess
    expect(output.map((line) => [line.message, line.function_request_id, line.cold_start])).toEqual([
      ['second', second.awsRequestId, false],
      ['third', third.awsRequestId, false],
      ['third, from a child', third.awsRequestId, false],
    ]);
    expect(output[0]).toMatchObject({
      function_name: second.functionName,
      function_memory_size: second.memoryLimitInMB,
    });
  });

  it('marks the lines of a cold invocation as a cold start', async () => {
    const logger = onDemandLogger(false);
    const output = await capturedOutput(async () => {
      logger.addContext(invocation());
      logger.warn('cold');
    });
    expect(output.map((line) => line.cold_start)).toEqual([true]);
  });

  it('reads nothing from the environment for an invocation that writes no line or asks the level', () => {
    const logger = onDemandLogger(false);
    const powertools = new Logger({ serviceName: 'telemetry-test' });
    expect(concurrencyReads(() => [logger.addContext(invocation()), logger.level])).toBe(0);
    expect(concurrencyReads(() => [powertools.addContext(invocation()), powertools.level])).toBe(2);
  });

  it('keeps the level set, as Powertools filters by it', async () => {
    const logger = onDemandLogger(false);
    const levels: number[] = [];
    const output = await capturedOutput(async () => {
      logger.setLogLevel('DEBUG');
      levels.push(logger.level);
      logger.debug('debug on');
      logger.setLogLevel('WARN');
      levels.push(logger.level);
      logger.info('filtered');
    });
    expect(output.map((line) => line.message)).toEqual(['debug on']);
    expect(levels).toEqual([8, 16]); // DEBUG, WARN
  });

  it('leaves the context to Powertools at once when several invocations share the process', () => {
    const addContext = jest.spyOn(Logger.prototype, 'addContext');
    onDemandLogger(false).addContext(invocation());
    expect(addContext).not.toHaveBeenCalled();
    onDemandLogger(true).addContext(invocation());
    expect(addContext).toHaveBeenCalledTimes(1);
  });
});

describe('InvocationMetrics', () => {
  afterEach(() => jest.restoreAllMocks());

  const build = (severalAtOnce: boolean) =>
    new InvocationMetrics({ serviceName: 'telemetry-test', namespace: 'TelemetryTest' }, severalAtOnce);

  it('publishes what an invocation stored once, and asks Powertools nothing after one that stored nothing', async () => {
    const hasStoredMetrics = jest.spyOn(Metrics.prototype, 'hasStoredMetrics');
    const checks: number[] = [];
    const output = await capturedOutput(async () => {
      const metrics = build(false);
      metrics.publishIfStored(); // nothing stored yet
      checks.push(hasStoredMetrics.mock.calls.length);
      metrics.addMetric('Stored', MetricUnit.Count, 1);
      metrics.publishIfStored();
      metrics.publishIfStored(); // the next invocation stored nothing
      checks.push(hasStoredMetrics.mock.calls.length);
    });
    expect(metricRecords(output, 'Stored')).toHaveLength(1);
    expect(output).toHaveLength(1); // no "No application metrics to publish" warning
    expect(checks).toEqual([0, 2]); // for the one that stored: its own check, and publishing's
  });

  it('keeps asking Powertools once a metric was stored when several invocations share the process', async () => {
    const hasStoredMetrics = jest.spyOn(Metrics.prototype, 'hasStoredMetrics');
    const output = await capturedOutput(async () => {
      const metrics = build(true);
      metrics.addMetric('Stored', MetricUnit.Count, 1);
      metrics.publishIfStored();
      hasStoredMetrics.mockClear();
      metrics.publishIfStored();
    });
    expect(metricRecords(output, 'Stored')).toHaveLength(1);
    expect(hasStoredMetrics).toHaveBeenCalledTimes(1);
  });
});
