/** The Capillary notifications function's configuration (docs/deploy.md#capillary-event-notifications). */
import { parseLoyaltyProgramId } from '../domain/loyalty-rules';
import { DEFAULTS } from './defaults';
import { list, readConfig, type Env, type EnvReader, type SecretResolver } from './env-reader';
import { readEventsQueueUrl, readTableName } from './resources';

export interface NotificationsConfig {
  /** the `Authorization: Bearer` values Capillary's webhook is configured with; several during a rotation */
  tokens: string[];
  queueUrl: string;
  tableName: string;
  maxBodyBytes: number;
  /** CAPILLARY_LOYALTY_PROGRAM_ID: tier notifications of other programs change no menu; undefined = any program */
  loyaltyProgramId?: number;
}

export async function readNotificationsConfig(env: Env, resolveSecret: SecretResolver): Promise<NotificationsConfig> {
  return readConfig(env, resolveSecret, async (read) => ({
    ...loyaltyProgramOf(read),
    tokens: await readNotificationTokens(read),
    queueUrl: readEventsQueueUrl(read),
    tableName: readTableName(read),
    maxBodyBytes: read.integer(
      'CAPILLARY_NOTIFICATIONS_MAX_BODY_BYTES',
      DEFAULTS.CAPILLARY_NOTIFICATIONS_MAX_BODY_BYTES,
      1024,
      6 * 1024 * 1024,
    ),
  }));
}

/** Comma-separated: during a rotation the old and the new token are both accepted. */
async function readNotificationTokens(read: EnvReader): Promise<string[]> {
  const tokens = list(await read.secret('CAPILLARY_NOTIFICATIONS_TOKEN'));
  if (tokens.some((token) => token.length < 32))
    read.problem('CAPILLARY_NOTIFICATIONS_TOKEN:', 'every token must be at least 32 characters');
  return tokens;
}

function loyaltyProgramOf(read: EnvReader): { loyaltyProgramId?: number } {
  const { programId, problems } = parseLoyaltyProgramId(read.optional('CAPILLARY_LOYALTY_PROGRAM_ID'));
  for (const problem of problems) read.problem('CAPILLARY_LOYALTY_PROGRAM_ID', problem.replace(/^\S+ /, ''));
  return programId === undefined ? {} : { loyaltyProgramId: programId };
}
