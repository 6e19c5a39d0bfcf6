import { logger, metrics, MetricUnit } from '../observability/telemetry';
import type { CapillaryApiError } from './errors';

/** A form of add customer that folds two calls into one (docs/capillary.md#folded-registration). */
export type FoldedForm = 'opt-in-on-add' | 'profiles-together';

/** The folded forms the org refused, remembered for the container's lifetime: it gets the separate calls instead. */
export class FoldedFormRefusals {
  readonly #refused = new Set<FoldedForm>();

  has(form: FoldedForm): boolean {
    return this.#refused.has(form);
  }

  refuse(form: FoldedForm, cause: CapillaryApiError | string): void {
    // Records of one batch may all have tried the form before the first refusal came back: say it once.
    if (this.#refused.has(form)) return;
    this.#refused.add(form);
    const detail = typeof cause === 'string' ? cause : cause.message;
    logger.warn(`Capillary refused the folded form ${form}; this container makes the separate calls from now on`, {
      form,
      detail,
    });
    metrics.addMetric('FoldedFormRefused', MetricUnit.Count, 1);
  }
}
