import { onceAsync } from '../config/once-per-container';
import { LineFollowersClient } from './follower-pages';
import type { LineApiOptions } from './line-api';

/**
 * A channel's bot user id (the `destination` of its webhooks, the first half of its user records' keys): its
 * setting, else `GET /v2/bot/info` with the channel's token, asked once per container (a failure is asked again).
 */
export function botDestination(configured: string | undefined, api: LineApiOptions): () => Promise<string> {
  if (configured !== undefined) return () => Promise.resolve(configured);
  const line = new LineFollowersClient(api);
  return onceAsync(() => line.botUserId());
}
