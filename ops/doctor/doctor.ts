/**
 * npm run doctor: the stage's configuration read as the worker reads it, then the LINE checks per channel, the
 * Capillary checks per org (and the write probe on request), and the AWS checks. The caller supplies where the
 * stage lives (a deployed stack, or the running local pipeline).
 */
import type { WorkerChannel, WorkerConfig } from '../../lib/config/worker-config';
import { checkAws, type AwsTarget } from './aws-checks';
import { authenticate, checkCapillaryOrg } from './capillary-checks';
import { fail, pass, type CheckResult } from './check';
import { UnknownChannelError } from './errors';
import { checkLineChannel } from './line-checks';
import { probeWrites } from './write-probe';

export interface DoctorRun {
  /** the worker's configuration, or the problem reading it (a missing SSM parameter, a bad setting) */
  config: WorkerConfig | { problem: string };
  /** only this channel (and its org) */
  channel?: string;
  /** the URL the stage serves a channel's webhook at, when known */
  webhookUrlOf(channelId: string): string | undefined;
  /** rich menu ids the settings name for a channel */
  richMenuIdsOf(channelId: string): string[];
  settingsHint: string;
  testWebhook: boolean;
  /** the test customer's mobile for --write-probe */
  writeProbeMobile?: string;
  aws: AwsTarget;
}

export async function runDoctor(run: DoctorRun): Promise<CheckResult[]> {
  const { config } = run;
  if ('problem' in config)
    return [
      fail('settings', 'configuration', config.problem, 'fix the setting named above, then run npm run doctor again'),
      ...(await checkAws(run.aws)),
    ];
  const channels = selectChannels(config, run.channel);
  const results: CheckResult[] = [
    pass('settings', 'configuration', `${channels.length} channel(s), read as the worker reads them`),
  ];
  for (const channel of channels) {
    results.push(
      ...(await checkLineChannel(
        {
          id: channel.id,
          channelAccessToken: channel.channelAccessToken,
          richMenuIds: run.richMenuIdsOf(channel.id),
          ...optional('destination', channel.destination),
          ...optional('lineLoginChannelId', channel.lineLoginChannelId),
          ...optional('expectedWebhookUrl', run.webhookUrlOf(channel.id)),
        },
        { apiBaseUrl: config.line.apiBaseUrl, testWebhook: run.testWebhook, settingsHint: run.settingsHint },
      )),
    );
  }
  for (const org of config.capillaryOrgs.all) {
    const ofOrg = channels.filter((channel) => channel.capillaryOrg === org.id);
    if (ofOrg.length === 0) continue;
    results.push(...(await checkCapillaryOrg(org, ofOrg)));
    if (run.writeProbeMobile === undefined) continue;
    const { headers, result } = await authenticate(`Capillary ${org.id}`, org, []);
    if (result.status === 'fail') continue;
    results.push(
      ...(await probeWrites({
        org,
        channel: ofOrg[0] as WorkerChannel,
        capillary: config.capillary,
        attachMethod: config.link.attachMethod,
        mobile: run.writeProbeMobile,
        headers,
      })),
    );
  }
  return [...results, ...(await checkAws(run.aws))];
}

function selectChannels(config: WorkerConfig, only: string | undefined): WorkerChannel[] {
  const all = config.channels.all;
  if (only === undefined) return [...all];
  const channel = config.channels.get(only);
  if (channel === undefined)
    throw new UnknownChannelError(
      only,
      all.map(({ id }) => id),
    );
  return [channel];
}

const optional = <N extends string, V>(name: N, value: V | undefined): Partial<Record<N, V>> =>
  (value === undefined ? {} : { [name]: value }) as Partial<Record<N, V>>;
