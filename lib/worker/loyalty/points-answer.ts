import type { Logger } from '@aws-lambda-powertools/logger';

import { CapillaryApiError, CapillaryUnavailableError } from '../../capillary/errors';
import { readMemberLoyalty } from '../../capillary/loyalty-reader';
import type { EventFacts } from '../../domain/event-route';
import { memberCardMessage, tryAgainMessage } from '../../domain/member-card';
import type { LineMessage } from '../../line/link-token-client';
import { countForChannel } from '../../observability/telemetry';
import type { LineUserKey } from '../../store/ports';
import { claimUserRecord, type Skipped } from '../claim-user-record';
import { answerInChat } from '../link/chat-answer';
import type { LinkOutcome } from '../link/link-context';
import { refusedForGood, startLink } from '../link/start-link';
import type { ChannelClients, SyncDeps } from '../worker-deps';

export type PointsOutcome = {
  result: 'points';
  action: 'member-card' | 'try-again' | 'refused-by-line';
};

/** "My points" from a one-to-one chat, with what answering it works with. */
export interface PointsRequest {
  key: LineUserKey;
  facts: EventFacts;
  channel: ChannelClients;
  deps: Pick<SyncDeps, 'store' | 'link'>;
  log: Logger;
  call: { deadlineAt: number };
}

/** Seconds of LINE's loading animation: a Capillary read that takes longer is answered "try again" anyway. */
const LOADING_SECONDS = 10;

/**
 * A linked member gets the member card, read from Capillary (the org's shared budget), by reply token while it is
 * fresh, else by push with the event's retry key: once per event, with no claim on the user's record (nothing on
 * it changes). A user who is not linked gets the link button: that is the linking flow's first step, in its lane.
 * Capillary slow or failing → the "try again" text, counted, never a retry (a late answer to a chat is worth less).
 */
export async function answerPoints(request: PointsRequest): Promise<PointsOutcome | LinkOutcome | Skipped> {
  const { key, facts, channel, deps, log } = request;
  const memberId = (await deps.store.read(key))?.linkedCustomerId;
  if (memberId === undefined) return offerLink(request);
  await startLoading(request);
  const card = await memberCard(request, memberId);
  const answer = { channel, claimed: { key }, facts, settings: deps.link.settings, now: Date.now() };
  try {
    await answerInChat(answer, [card.message]);
  } catch (error) {
    if (!refusedForGood(error)) throw error;
    countForChannel('PointsAnswerFailed', channel.id, 1, { reason: 'refused-by-line' });
    log.warn('LINE refused the points answer; acknowledged, not retried', { status: error.status });
    return { result: 'points', action: 'refused-by-line' };
  }
  if (card.answer === 'member-card') countForChannel('PointsAnswered', channel.id);
  log.info('Points answered', { answer: card.answer });
  return { result: 'points', action: card.answer };
}

async function memberCard(
  { channel, log, call }: PointsRequest,
  memberId: number,
): Promise<{ answer: 'member-card' | 'try-again'; message: LineMessage }> {
  const { capillary, programId, cardTexts } = channel.loyalty;
  let reason: string;
  try {
    const reading = await readMemberLoyalty(capillary, memberId, { call, ...(programId ? { programId } : {}) });
    if (reading.outcome === 'member')
      return { answer: 'member-card', message: memberCardMessage(reading.standing, cardTexts) };
    reason = reading.outcome;
  } catch (error) {
    if (!(error instanceof CapillaryUnavailableError || error instanceof CapillaryApiError)) throw error;
    reason = error instanceof CapillaryUnavailableError ? 'capillary-unavailable' : 'capillary-error';
  }
  countForChannel('PointsAnswerFailed', channel.id, 1, { reason });
  log.warn('Points not readable from Capillary: "try again" answered', { reason, customerId: memberId });
  return { answer: 'try-again', message: tryAgainMessage(cardTexts) };
}

/** The loading animation is a courtesy: LINE refusing or failing it changes nothing about the answer. */
async function startLoading({ channel, key, log }: PointsRequest): Promise<void> {
  try {
    await channel.loyalty.richMenus.startLoading(key.userId, LOADING_SECONDS);
  } catch (error) {
    log.info('Loading animation not shown', { error: { name: (error as Error).name } });
  }
}

/** Not linked: the linking flow's start, claimed in its lane like a link postback (once per event, in order). */
async function offerLink({ key, facts, channel, deps, log, call }: PointsRequest): Promise<LinkOutcome | Skipped> {
  const claim = await claimUserRecord(key, { ...facts, lane: 'link' }, deps.store, channel.id, log);
  if ('skipped' in claim) return claim.skipped;
  const { nonces, settings } = deps.link;
  // Starting a link moves no profile: no other channel of the provider is touched.
  const siblings = { channels: [], records: deps.store };
  return startLink({ claimed: claim.claimed, facts, channel, nonces, siblings, settings, log, call, now: Date.now() });
}
