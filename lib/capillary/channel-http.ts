import type { CapillaryOrgConfig } from '../config/capillary-orgs';
import type { ById } from '../config/channels';
import { ConfigError } from '../config/errors';
import { CapillaryHttpClient } from './http-client';
import { TAKEN_BY_CALLER } from './rate-limiter';

/**
 * A channel's Capillary org and an HTTP client for that channel that paces nothing itself: the jobs outside the
 * worker (backfill, drift check, menu sync) space their calls with limiters of their own.
 */
export function channelCapillaryHttp(
  orgs: ById<CapillaryOrgConfig>,
  channel: { id: string; capillaryOrg: string },
  { timeoutMs, maxAttempts }: { timeoutMs: number; maxAttempts: number },
): { org: CapillaryOrgConfig; http: CapillaryHttpClient } {
  const org = orgs.get(channel.capillaryOrg);
  // The config reader refuses a channel naming an unknown org, so this is a broken config object.
  if (org === undefined)
    throw new ConfigError([`channel "${channel.id}": capillaryOrg "${channel.capillaryOrg}" is not configured`]);
  const client = new CapillaryHttpClient({
    baseUrl: org.baseUrl,
    auth: org.auth,
    timeoutMs,
    maxAttempts,
    limiter: TAKEN_BY_CALLER,
  });
  return { org, http: client.forChannel(channel.id) };
}
