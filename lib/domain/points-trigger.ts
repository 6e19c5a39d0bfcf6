/** What asks for the member's points in chat ("my points", worker/loyalty). Pure. */
import type { EventFacts } from './event-route';

/** What asks for the member's points in chat (config/loyalty-config). */
export interface PointsTriggers {
  pointsPostbackData: string;
  pointsKeyword?: string;
}

/** Only in a one-to-one chat, as for linking: a member card posted to a group would show the points to all. */
export function asksForPoints(
  facts: Pick<EventFacts, 'sourceType' | 'type' | 'postbackData' | 'text'>,
  { pointsPostbackData, pointsKeyword }: PointsTriggers,
): boolean {
  if (facts.sourceType !== 'user') return false;
  if (facts.type === 'postback') return facts.postbackData === pointsPostbackData;
  return (
    facts.type === 'message' &&
    pointsKeyword !== undefined &&
    facts.text?.trim().toLowerCase() === pointsKeyword.trim().toLowerCase()
  );
}
