import type { SQSRecord } from 'aws-lambda';

import { inMessageGroupOrder, MessageGroupSkippedError } from '../../../lib/worker/message-groups';
import { toSqsRecord } from '../../../local/lambda-events';

const ARN = 'arn:aws:sqs:ap-northeast-1:000000000000:test.fifo';
const record = (messageId: string, group: string): SQSRecord =>
  toSqsRecord(
    { MessageId: messageId, Body: '{}', Attributes: { MessageGroupId: group, ApproximateReceiveCount: '1' } },
    ARN,
  );

/** A handler whose runs the test lets finish one by one. */
function gatedHandler() {
  const started: string[] = [];
  const gates = new Map<string, { open: () => void; fail: (error: Error) => void }>();
  const handle = (item: SQSRecord) => {
    started.push(item.messageId);
    return new Promise<string>((resolve, reject) => {
      gates.set(item.messageId, { open: () => resolve(item.messageId), fail: reject });
    });
  };
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return { started, gates, handle, tick };
}

describe('inMessageGroupOrder', () => {
  it('runs the records of one group in order and other groups at the same time', async () => {
    // Prepare
    const records = [record('a1', 'A'), record('b1', 'B'), record('a2', 'A')];
    const { started, gates, handle, tick } = gatedHandler();
    const run = inMessageGroupOrder(records, handle);
    // Act
    const results = records.map(run);
    await tick();
    // Assess: a2 waits for a1, b1 does not
    expect(started).toEqual(['a1', 'b1']);
    gates.get('a1')?.open();
    await tick();
    expect(started).toEqual(['a1', 'b1', 'a2']);
    gates.get('a2')?.open();
    gates.get('b1')?.open();
    expect(await Promise.all(results)).toEqual(['a1', 'b1', 'a2']);
  });

  it("fails the rest of a failed record's group without running it, and only that group", async () => {
    // Prepare
    const records = [record('a1', 'A'), record('a2', 'A'), record('a3', 'A'), record('b1', 'B')];
    const { started, gates, handle, tick } = gatedHandler();
    const run = inMessageGroupOrder(records, handle);
    const results = records.map((item) =>
      run(item).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
    );
    await tick();
    // Act
    gates.get('a1')?.fail(new Error('Capillary down'));
    gates.get('b1')?.open();
    // Assess
    const [a1, a2, a3, b1] = await Promise.all(results);
    expect(a1).toEqual({ error: new Error('Capillary down') });
    expect(a2).toEqual({ error: new MessageGroupSkippedError('a2', 'a1') });
    expect(a3).toEqual({ error: new MessageGroupSkippedError('a3', 'a1') });
    expect(b1).toEqual({ value: 'b1' });
    expect(started).toEqual(['a1', 'b1']);
  });

  it('runs each record once, whatever order and however often it is asked for', async () => {
    const records = [record('a1', 'A'), record('a2', 'A')];
    const runs: string[] = [];
    const run = inMessageGroupOrder(records, async (item) => {
      runs.push(item.messageId);
      return item.messageId;
    });
    expect(await Promise.all([run(records[1]!), run(records[0]!), run(records[1]!)])).toEqual(['a2', 'a1', 'a2']);
    expect(runs).toEqual(['a1', 'a2']);
  });
});
