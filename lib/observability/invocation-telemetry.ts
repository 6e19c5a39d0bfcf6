import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

/**
 * Powertools reads AWS_LAMBDA_MAX_CONCURRENCY on every addContext, log level and stored-metrics check (about
 * 0.35 µs each), because a Lambda Managed Instance runs several invocations in one process and Powertools then
 * keeps context, level and metrics per invocation. Lambda sets it before the code loads: read once here, and in that
 * mode leave everything to Powertools.
 */
export const severalInvocationsAtOnce = (env: NodeJS.ProcessEnv): boolean =>
  (env.AWS_LAMBDA_MAX_CONCURRENCY ?? '') !== '';

type LoggerOptions = ConstructorParameters<typeof Logger>[0];

/**
 * A Logger that takes the invocation's Lambda context when a line is written (most invocations write none) and keeps
 * the level in effect itself. Lines carry the same context and cold-start flag as with Powertools' addContext.
 */
export class InvocationLogger extends Logger {
  // Soft-private fields: Powertools' constructor may already call the overrides below before they are defined.
  private readonly severalAtOnce: boolean;
  private pendingContext: { context: Context; coldStart: boolean } | undefined;
  private levelInEffect: number | undefined;

  constructor(options?: LoggerOptions, severalAtOnce = severalInvocationsAtOnce(process.env)) {
    super(options);
    this.severalAtOnce = severalAtOnce;
    if (!severalAtOnce) this.levelInEffect = super.level;
  }

  override get level(): number {
    return this.levelInEffect ?? super.level;
  }

  override setLogLevel(logLevel: Parameters<Logger['setLogLevel']>[0]): void {
    super.setLogLevel(logLevel);
    // Lambda's own log level (advanced logging controls) may have overridden the one asked for: read what holds.
    if (this.severalAtOnce === false) this.levelInEffect = super.level;
  }

  override addContext(context: Context): void {
    if (this.severalAtOnce) return super.addContext(context);
    // Asked now: only the first invocation of a container is a cold start, whenever its first line is written.
    this.pendingContext = { context, coldStart: this.getColdStart() };
  }

  override createChild(options?: LoggerOptions): Logger {
    this.applyPendingContext();
    return super.createChild(options);
  }

  protected override createAndPopulateLogItem(...item: Parameters<Logger['createAndPopulateLogItem']>) {
    this.applyPendingContext();
    return super.createAndPopulateLogItem(...item);
  }

  private applyPendingContext(): void {
    const pending = this.pendingContext;
    if (pending === undefined) return;
    this.pendingContext = undefined;
    this.coldStart = pending.coldStart; // what Powertools' addContext reads (and clears) through getColdStart()
    super.addContext(pending.context);
  }
}

/** Metrics that know without asking Powertools whether the invocation stored any (most store none). */
export class InvocationMetrics extends Metrics {
  private readonly severalAtOnce: boolean;
  private storedSincePublish = false;

  constructor(
    options?: ConstructorParameters<typeof Metrics>[0],
    severalAtOnce = severalInvocationsAtOnce(process.env),
  ) {
    super(options);
    this.severalAtOnce = severalAtOnce;
  }

  override addMetric(...metric: Parameters<Metrics['addMetric']>): this {
    this.storedSincePublish = true;
    return super.addMetric(...metric);
  }

  /** Publishes what was stored (EMF), if anything: publishing nothing only logs Powertools' warning. */
  publishIfStored(): void {
    if (!this.storedSincePublish) return;
    // With several invocations at once, another one may still hold metrics: keep asking Powertools from now on.
    this.storedSincePublish = this.severalAtOnce;
    if (this.hasStoredMetrics()) this.publishStoredMetrics();
  }
}
