/**
 * What must hold for the engagement events of a chaos run once the queue is drained, checked against what the
 * Capillary stand-in's ingest URL took (it records every post, duplicates included):
 * - every event a rule maps was posted exactly once, under its event name, and nothing else was posted: not an
 *   event no rule maps, not an event nobody sent. A person whose customer Capillary deleted on a PII request (the
 *   identity mix) may have a tap applied after the deletion: it waits for a new follow, so once or never. A post
 *   whose answer never reached the bridge (./ingest-answers), or reached a worker that then failed to remember it
 *   (its invocation ended first: ./crashing-worker), may have been taken: one more post is allowed for each;
 * - no posted body carries a LINE user id (Capillary keeps behavioural events after a PII deletion).
 */
import type { PostedBehaviouralEvent } from '../standins/behavioural-events-ingest';
import type { SentEngagement } from './engagement-scenario';
import type { UserProblem } from './oracle';
import type { TableRow } from './report-table';

export interface EngagementFigures {
  /** distinct engagement events sent (redeliveries not counted) */
  sent: number;
  /** of which a rule maps */
  mapped: number;
  /** posts the ingest took, repeats included */
  posts: number;
  /** events posted more than once, beyond the posts whose answer the bridge never got */
  postedTwice: number;
  /** events posted again after an attempt whose answer was lost or not remembered (Capillary's unique key takes it once) */
  repostedAfterLostAnswer: number;
  /** mapped events never posted */
  notPosted: number;
  /** of the person whose customer was deleted on a PII request, never posted (allowed) */
  notPostedAfterDeletion: number;
  /** posts of events no rule maps, or nobody sent */
  unexpected: number;
  /** attempts on the ingest answered by an injected fault */
  ingestFaulted: number;
}

export function judgeEngagement(
  sent: readonly SentEngagement[],
  posted: readonly PostedBehaviouralEvent[],
  ingestFaulted = 0,
  deletedUsers: ReadonlySet<string> = new Set(),
  answersLost: ReadonlyMap<string, number> = new Map(),
): { figures: EngagementFigures; problems: UserProblem[] } {
  const problems: UserProblem[] = [];
  const postsOf = new Map<string, PostedBehaviouralEvent[]>();
  for (const post of posted) postsOf.set(post.externalEventId, [...(postsOf.get(post.externalEventId) ?? []), post]);
  const figures: EngagementFigures = {
    sent: sent.length,
    mapped: sent.filter((event) => event.eventName !== undefined).length,
    posts: posted.length,
    postedTwice: 0,
    repostedAfterLostAnswer: 0,
    notPosted: 0,
    notPostedAfterDeletion: 0,
    unexpected: 0,
    ingestFaulted,
  };
  for (const event of sent) {
    const posts = postsOf.get(event.webhookEventId) ?? [];
    postsOf.delete(event.webhookEventId);
    const report = (detail: string) =>
      problems.push({ userId: event.userId, channel: event.channel, kind: 'engagement', detail });
    if (event.eventName === undefined) {
      if (posts.length > 0) report(`${event.webhookEventId}: no rule maps it, posted ${posts.length} time(s)`);
      figures.unexpected += posts.length > 0 ? 1 : 0;
      continue;
    }
    if (posts.length === 0 && deletedUsers.has(event.userId)) {
      figures.notPostedAfterDeletion += 1;
      continue;
    }
    // Each attempt whose answer never came may have been taken: the bridge cannot know, and posts again.
    const mayRepeat = answersLost.get(event.webhookEventId) ?? 0;
    if (posts.length === 0) figures.notPosted += 1;
    if (posts.length > 1 && posts.length - 1 <= mayRepeat) figures.repostedAfterLostAnswer += 1;
    else if (posts.length > 1) figures.postedTwice += 1;
    if (posts.length === 0 || posts.length - 1 > mayRepeat)
      report(
        `${event.webhookEventId} (${event.eventName}): posted ${posts.length} times` +
          (mayRepeat > 0 ? `, ${mayRepeat} answer(s) lost or not remembered` : ''),
      );
    for (const post of posts) {
      if (post.eventName !== event.eventName) report(`${event.webhookEventId}: posted as ${post.eventName}`);
      if (JSON.stringify(post.body).includes(event.userId))
        report(`${event.webhookEventId}: its body names the LINE user`);
    }
  }
  for (const [externalEventId, posts] of postsOf) {
    figures.unexpected += 1;
    problems.push({
      userId: '(unknown)',
      channel: '(unknown)',
      kind: 'engagement',
      detail: `${externalEventId}: posted ${posts.length} time(s), never sent`,
    });
  }
  return { figures, problems };
}

/** The engagement lines of the chaos report. */
export function engagementRows(figures: EngagementFigures): TableRow[] {
  return [
    ['engagement events sent (distinct; mapped by a rule)', `${figures.sent} (${figures.mapped})`],
    ['  behavioural events posted (ingest calls answered by a fault)', `${figures.posts} (${figures.ingestFaulted})`],
    [
      '  mapped events posted twice / never; unmapped or unknown posted',
      `${figures.postedTwice} / ${figures.notPosted}; ${figures.unexpected}`,
    ],
    [
      '  posted again after an answer was lost or not remembered (Capillary keeps one by its unique key)',
      figures.repostedAfterLostAnswer,
    ],
    ['  never posted: taps of a person whose customer was deleted (PII)', figures.notPostedAfterDeletion],
  ];
}
