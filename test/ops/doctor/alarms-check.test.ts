import { randomUUID } from 'node:crypto';

import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';

import { checkAlarms } from '../../../ops/doctor/alarms-check';
import { alarmNames } from '../../../ops/serverless-resources';
import { motoInstalled, startMotoServer, type MotoServer } from '../../support/moto-server';

const installed = motoInstalled();
if (!installed)
  process.stderr.write("moto is not installed: the doctor's alarms check is not tested (pip install 'moto[server]')\n");

let moto: MotoServer;
let cloudWatch: CloudWatchClient;

beforeAll(async () => {
  if (!installed) return;
  moto = await startMotoServer();
  cloudWatch = new CloudWatchClient({
    region: 'ap-northeast-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
  });
}, 60_000);

afterAll(async () => {
  cloudWatch?.destroy();
  await moto?.stop();
});

/** A stage of its own (moto keeps every test's alarms), and its alarms as serverless.yml declares them. */
function freshStage(): { stage: string; names: string[] } {
  const stage = `doctor${randomUUID().slice(0, 8)}`;
  return { stage, names: alarmNames(stage) };
}

/** The alarm as the stack makes it (its description says what it means), in `state`. */
async function putAlarm(name: string, state: StateValue = 'OK'): Promise<void> {
  await cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      AlarmDescription: `What ${name} means, and the first step.`,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  await cloudWatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `set ${state}` }));
}

(installed ? describe : describe.skip)('doctor: alarms check (against moto)', () => {
  it('passes when every alarm serverless.yml declares exists and none is in ALARM', async () => {
    // Prepare
    const { stage, names } = freshStage();
    const [first, ...others] = names;
    await putAlarm(first as string, 'INSUFFICIENT_DATA');
    for (const name of others) await putAlarm(name);
    // Act
    const results = await checkAlarms({ stage, cloudWatch, alarmNames: names });
    // Assess
    expect(results).toEqual([
      {
        area: 'AWS',
        check: 'alarms',
        status: 'pass',
        detail: `all ${names.length} exist, 0 in ALARM, 1 without data yet`,
      },
    ]);
  });

  it('fails the missing alarms (deploy) and each alarm in ALARM with its description and runbook row', async () => {
    // Prepare
    const { stage, names } = freshStage();
    const missing = ['queue-age', 'webhook-4xx'].map((alarm) => `line-capillary-bridge-${stage}-${alarm}`);
    const present = names.filter((name) => !missing.includes(name));
    for (const name of present)
      await putAlarm(name, name === `line-capillary-bridge-${stage}-dead-letter-queue` ? 'ALARM' : 'OK');
    // An alarm of another stage whose name starts alike is not this stage's.
    await putAlarm(`line-capillary-bridge-${stage}-eu-worker-errors`, 'ALARM');
    // Act
    const results = await checkAlarms({ stage, cloudWatch, alarmNames: names });
    // Assess
    expect(results).toEqual([
      {
        area: 'AWS',
        check: 'alarms',
        status: 'fail',
        detail: `2 of ${names.length} missing: queue-age, webhook-4xx`,
        fix: `deploy the stack, which declares them: npx sls deploy --stage ${stage} (deleted by hand?)`,
      },
      {
        area: 'AWS',
        check: 'alarm dead-letter-queue',
        status: 'fail',
        detail: expect.stringMatching(/^in ALARM since \d{4}-\d\d-\d\dT[\d:.]+Z: set ALARM$/),
        fix: `What line-capillary-bridge-${stage}-dead-letter-queue means, and the first step. (docs/operations.md#alarms, row dead-letter-queue)`,
      },
    ]);
  });
});

describe('doctor: alarms check', () => {
  it('says it cannot tell, and where to look, when CloudWatch cannot be read', async () => {
    // Prepare: nothing listens there (denied credentials end the same way: an error instead of alarms)
    const { stage, names } = freshStage();
    const unreachable = new CloudWatchClient({
      region: 'ap-northeast-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
      maxAttempts: 1,
    });
    // Act
    const results = await checkAlarms({ stage, cloudWatch: unreachable, alarmNames: names });
    unreachable.destroy();
    // Assess
    expect(results).toEqual([
      expect.objectContaining({
        check: 'alarms',
        status: 'unknown',
        fix: expect.stringContaining(`cloudwatch:DescribeAlarms, or see CloudWatch console → Alarms → "In alarm"`),
      }),
    ]);
  });
});
