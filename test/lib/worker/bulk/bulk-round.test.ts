import type { BulkRecordOutcome } from '../../../../lib/capillary/bulk-upsert';
import { BulkRound, type BulkFollower } from '../../../../lib/worker/bulk/bulk-round';

const call = { deadlineAt: Number.POSITIVE_INFINITY };
const accepted = (userId: string, customerId: number): BulkRecordOutcome => ({
  userId,
  customerId,
  ok: true,
  subscribed: true,
  merged: false,
  codes: [],
});

function recordingRound(candidates: string[], pays = true) {
  const sent: BulkFollower[][] = [];
  let answer: (followers: BulkFollower[]) => Promise<BulkRecordOutcome[]> = async (followers) =>
    followers.map(({ userId }, index) => accepted(userId, 100 + index));
  const round = new BulkRound(
    candidates,
    (followers) => {
      sent.push(followers);
      return answer(followers);
    },
    () => pays,
  );
  return { round, sent, answerWith: (next: typeof answer) => (answer = next) };
}

describe('BulkRound', () => {
  it('sends once every candidate has joined, in one call, and gives each joiner its own outcome', async () => {
    // Prepare
    const { round, sent } = recordingRound(['Ua', 'Ub', 'Uc']);
    // Act
    const outcomes = Promise.all([
      round.join({ userId: 'Ua', displayName: 'A' }, call),
      round.join({ userId: 'Ub' }, call),
      round.join({ userId: 'Uc', displayName: 'C' }, call),
    ]);
    // Assess
    expect(await outcomes).toEqual([accepted('Ua', 100), accepted('Ub', 101), accepted('Uc', 102)]);
    expect(sent).toEqual([[{ userId: 'Ua', displayName: 'A' }, { userId: 'Ub' }, { userId: 'Uc', displayName: 'C' }]]);
  });

  it('waits for every candidate to join or withdraw before sending', async () => {
    // Prepare
    const { round, sent } = recordingRound(['Ua', 'Ub', 'Uc']);
    // Act
    const first = round.join({ userId: 'Ua' }, call);
    const second = round.join({ userId: 'Ub' }, call);
    await Promise.resolve();
    const sentBeforeWithdrawal = sent.length;
    round.withdraw('Uc');
    // Assess
    expect(sentBeforeWithdrawal).toBe(0);
    expect(await Promise.all([first, second])).toEqual([accepted('Ua', 100), accepted('Ub', 101)]);
    expect(sent).toHaveLength(1);
  });

  it('tells a lone joiner to register on its own, with no bulk call', async () => {
    // Prepare
    const { round, sent } = recordingRound(['Ua', 'Ub']);
    // Act
    const outcome = round.join({ userId: 'Ua' }, call);
    round.withdraw('Ub');
    // Assess
    expect(await outcome).toBeUndefined();
    expect(sent).toHaveLength(0);
  });

  it('tells every joiner to register on its own when a bulk call does not pay', async () => {
    // Prepare
    const { round, sent } = recordingRound(['Ua', 'Ub'], false);
    // Act
    const outcomes = await Promise.all([round.join({ userId: 'Ua' }, call), round.join({ userId: 'Ub' }, call)]);
    // Assess
    expect(outcomes).toEqual([undefined, undefined]);
    expect(sent).toHaveLength(0);
  });

  it('fails every joiner with the error of a bulk call that throws', async () => {
    // Prepare
    const { round, answerWith } = recordingRound(['Ua', 'Ub']);
    answerWith(async () => {
      throw new Error('Capillary unavailable');
    });
    // Act
    const outcomes = [round.join({ userId: 'Ua' }, call), round.join({ userId: 'Ub' }, call)];
    // Assess
    await expect(outcomes[0]).rejects.toThrow('Capillary unavailable');
    await expect(outcomes[1]).rejects.toThrow('Capillary unavailable');
  });

  it('sends a user who is not (or no longer) awaited on their own, and ignores a withdrawal after joining', async () => {
    // Prepare
    const { round, sent } = recordingRound(['Ua', 'Ub']);
    // Act
    const stranger = await round.join({ userId: 'Ux' }, call);
    const joined = round.join({ userId: 'Ua' }, call);
    round.withdraw('Ua');
    const again = await round.join({ userId: 'Ua' }, call);
    round.withdraw('Ub');
    // Assess
    expect(stranger).toBeUndefined();
    expect(again).toBeUndefined();
    expect(await joined).toBeUndefined();
    expect(sent).toHaveLength(0);
  });
});
