import { logger } from '../../lib/observability/telemetry';

/**
 * Everything the action wrote to stdout and stderr (Powertools' JSON logs and EMF metrics), one parsed object per line.
 * Logs are on at INFO, and metrics published through a single metric (read their setting when built) are on.
 */
export async function capturedOutput(action: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr]; // warnings and errors go to stderr
  const originalWrites = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(
        ...(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')).split('\n').filter(Boolean),
      );
      rest.find((arg): arg is () => void => typeof arg === 'function')?.();
      return true;
    }) as typeof stream.write;
  }
  const previousLevel = logger.getLevelName();
  const metricsDisabled = process.env.POWERTOOLS_METRICS_DISABLED;
  logger.setLogLevel('INFO');
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  try {
    await action();
  } finally {
    logger.setLogLevel(previousLevel);
    process.env.POWERTOOLS_METRICS_DISABLED = metricsDisabled;
    streams.forEach((stream, index) => {
      stream.write = originalWrites[index]!;
    });
  }
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The EMF records among the output that carry this metric. */
export const metricRecords = (output: Record<string, unknown>[], name: string) =>
  output.filter((line) => '_aws' in line && name in line);
