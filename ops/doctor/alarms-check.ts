/**
 * The doctor's alarms check for a deployed stage: every alarm serverless.yml declares exists, and each one in ALARM
 * gets its own line, its description (what it means, the first step) and the runbook row as the fix.
 */
import { DescribeAlarmsCommand, type CloudWatchClient, type MetricAlarm } from '@aws-sdk/client-cloudwatch';

import { fail, pass, unknown, type CheckResult } from './check';

export interface AlarmsTarget {
  stage: string;
  cloudWatch: CloudWatchClient;
  /** the alarm names serverless.yml declares for the stage */
  alarmNames: readonly string[];
}

const AREA = 'AWS';
const RUNBOOK = 'docs/operations.md#alarms';

export async function checkAlarms(target: AlarmsTarget): Promise<CheckResult[]> {
  const prefix = `line-capillary-bridge-${target.stage}-`;
  let alarms: MetricAlarm[];
  try {
    alarms = await describeAlarms(target.cloudWatch, prefix);
  } catch (error) {
    return [
      unknown(
        AREA,
        'alarms',
        `cannot be read: ${(error as Error).name}`,
        `run the doctor with credentials that may cloudwatch:DescribeAlarms, or see CloudWatch console → Alarms → "In alarm", filtered by ${prefix}`,
      ),
    ];
  }
  const shortName = (name: string) => (name.startsWith(prefix) ? name.slice(prefix.length) : name);
  const found = new Set(alarms.map(({ AlarmName }) => AlarmName));
  const missing = target.alarmNames.filter((name) => !found.has(name));
  const ours = alarms.filter(({ AlarmName }) => target.alarmNames.includes(AlarmName as string));
  const firing = ours.filter(({ StateValue }) => StateValue === 'ALARM');
  const noData = ours.filter(({ StateValue }) => StateValue === 'INSUFFICIENT_DATA').length;
  const summary =
    missing.length > 0
      ? fail(
          AREA,
          'alarms',
          `${missing.length} of ${target.alarmNames.length} missing: ${missing.map(shortName).join(', ')}`,
          `deploy the stack, which declares them: npx sls deploy --stage ${target.stage} (deleted by hand?)`,
        )
      : pass(
          AREA,
          'alarms',
          `all ${target.alarmNames.length} exist, ${firing.length} in ALARM${noData > 0 ? `, ${noData} without data yet` : ''}`,
        );
  return [
    summary,
    ...firing.map(({ AlarmName, AlarmDescription, StateReason, StateUpdatedTimestamp }) =>
      fail(
        AREA,
        `alarm ${shortName(AlarmName as string)}`,
        `in ALARM since ${StateUpdatedTimestamp?.toISOString() ?? '?'}: ${StateReason ?? 'no reason given'}`,
        `${AlarmDescription ?? 'see its row'} (${RUNBOOK}, row ${shortName(AlarmName as string)})`,
      ),
    ),
  ];
}

async function describeAlarms(cloudWatch: CloudWatchClient, prefix: string): Promise<MetricAlarm[]> {
  const alarms: MetricAlarm[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, NextToken }));
    alarms.push(...(page.MetricAlarms ?? []));
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
  return alarms;
}
