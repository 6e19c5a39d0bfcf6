/** The insight check's configuration: the table whose opted-in users it counts, and every channel whose LINE followers it compares. */
import { readChannels, type ById, type ChannelOf } from './channels';
import { readConfig, type Env, type SecretResolver } from './env-reader';
import { readLineApiBaseUrl, readLineApiTimeoutMs } from './line-api';
import { readTableName } from './resources';

export interface InsightCheckConfig {
  tableName: string;
  /** every channel: the check runs for each (their bot user ids come from LINE when not configured) */
  channels: ById<ChannelOf<'channelAccessToken'>>;
  line: { apiBaseUrl: string; timeoutMs: number };
}

export async function readInsightCheckConfig(env: Env, resolveSecret: SecretResolver): Promise<InsightCheckConfig> {
  return readConfig(env, resolveSecret, async (read) => ({
    tableName: readTableName(read),
    channels: await readChannels(read, ['channelAccessToken']),
    line: { apiBaseUrl: readLineApiBaseUrl(read), timeoutMs: readLineApiTimeoutMs(read, 60_000) },
  }));
}
