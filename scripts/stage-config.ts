/**
 * The worker's configuration of a stage as an operator command reads it (SSM with the operator's credentials), with
 * the channels `npm start` serves on `--stage local`; and the refusal of a channel the stage does not serve.
 */
import { ssmSecret } from '../lib/config/once-per-container';
import { readWorkerConfig, type WorkerConfig } from '../lib/config/worker-config';
import { namesOwnChannels, withLocalChannels } from '../local/pipeline-admin-api';
import { UnknownChannelError } from '../ops/doctor/errors';
import { workerEnvironment, type StageTarget } from '../ops/stage-target';

export function stageEnvironment(target: Pick<StageTarget, 'stage' | 'tableName'>, env = process.env) {
  const stageEnv = workerEnvironment(target, env);
  // As `npm start` decides: unless the environment names its own channels, the local ones (default and tw).
  return target.stage === 'local' && !namesOwnChannels(env) ? withLocalChannels(stageEnv) : stageEnv;
}

export function stageConfig(target: Pick<StageTarget, 'stage' | 'tableName'>): Promise<WorkerConfig> {
  return readWorkerConfig(stageEnvironment(target), ssmSecret);
}

/** Throws UnknownChannelError, listing the stage's channels, before anything starts. */
export function assertChannelServed(config: WorkerConfig, channel: string): void {
  if (config.channels.get(channel) === undefined)
    throw new UnknownChannelError(
      channel,
      config.channels.all.map(({ id }) => id),
    );
}

/**
 * Before a job starts: refuses a channel the stage does not serve. When the operator may not read the stage's
 * settings (SSM), the job starts anyway and its own invocation reports a problem.
 */
export async function refuseUnknownChannel(target: Pick<StageTarget, 'stage' | 'tableName'>, channel: string) {
  let config: WorkerConfig;
  try {
    config = await stageConfig(target);
  } catch {
    return;
  }
  assertChannelServed(config, channel);
}
