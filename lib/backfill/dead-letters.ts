/** Backfill records Capillary kept rejecting: to the events DLQ with the reason, for a redrive through the pipeline. */
import type { BulkRecordOutcome } from '../capillary/bulk-upsert';
import { logger, maskUserId } from '../observability/telemetry';
import type { SyntheticEventSender } from '../queue/synthetic-events';
import type { Claimed } from './register-batch';

export interface Rejected {
  record: Claimed;
  outcome: BulkRecordOutcome;
}

/** The claim stays (it expires): a redrive re-claims it as the same event; a newer live event takes over after expiry. */
export async function deadLetter(
  rejected: Rejected[],
  attempts: number,
  deadLetters: SyntheticEventSender,
): Promise<void> {
  await deadLetters.send(
    rejected.map(({ record, outcome }) => ({
      facts: { ...record.facts, type: 'follow', userId: record.userId },
      reason: rejectionReason(outcome, attempts),
    })),
  );
  for (const { record, outcome } of rejected) {
    logger.warn('Backfill record rejected by Capillary; sent to the DLQ', {
      user: maskUserId(record.userId),
      codes: outcome.codes,
      reason: outcome.reason,
    });
  }
}

function rejectionReason(outcome: BulkRecordOutcome, attempts: number): string {
  const codes = outcome.codes.join(', ') || 'none';
  const partly = outcome.customerId === undefined ? '' : `; partly applied as customer ${outcome.customerId}`;
  return `backfill: Capillary rejected the record ${attempts} times: ${outcome.reason ?? 'unknown'} (codes ${codes})${partly}`;
}
