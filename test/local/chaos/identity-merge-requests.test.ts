/**
 * The merge-request part of the identity mix: the answers it loses to `POST /v2/requests` are lost after Capillary took
 * the request, spread over the filings as planned; each request's fate is what the cut decided, else what Capillary's
 * state says (approved: at once; pending).
 */

import {
  loseMergeRequestAnswers,
  mergeRequestStories,
  planMergeRequests,
} from '../../../local/chaos/identity-merge-requests';
import type { IdentityPlan } from '../../../local/chaos/identity-scenario';
import type { UserHistory } from '../../../local/chaos/scenario';
import { startCapillaryStandIn } from '../../../local/standins/capillary-standin';
import { postMergeRequest } from '../../support/capillary-merge-requests';
import { closedAfterEach } from '../../support/closed-after-each';

const startStandIn = closedAfterEach(startCapillaryStandIn);

const linker = (index: number, channel = 'th'): UserHistory => ({
  userId: `U${index}`,
  channel,
  destination: `bot-${channel}`,
  events: [],
  actions: ['follow', 'link'],
  links: [],
  attacks: [],
});
const plan = { linkChannels: new Set(['th']) } as IdentityPlan;

describe('identity mix: merge requests', () => {
  it('plans the same at-once members and lost answers for the same seed, among the users who link on a link channel', () => {
    const users = [...Array.from({ length: 40 }, (_, index) => linker(index)), linker(99, 'tw')];
    const first = planMergeRequests(users, plan, 7);
    expect(planMergeRequests(users, plan, 7)).toEqual(first);
    expect(first.approvedAtOnce.size).toBeGreaterThan(0);
    expect(first.approvedAtOnce.size).toBeLessThan(40);
    expect(first.approvedAtOnce.has('bot-tw#U99')).toBe(false);
    expect(first.lostAnswerGaps).toHaveLength(40);
  });

  it('loses the answers of the planned filings only after Capillary took each request', async () => {
    const standIn = await startStandIn();
    loseMergeRequestAnswers(standIn, { approvedAtOnce: new Set(), lostAnswerGaps: [1, 0] });
    const survivor = standIn.addMember({ mobile: '66811111111' });
    const statuses: (number | string)[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      const victim = standIn.addMember({ email: `${name}@example.com` });
      const answer = await postMergeRequest(standIn.url, victim, survivor).then(
        (response) => response.status,
        () => 'reset',
      );
      statuses.push(answer);
    }
    // the first filing answered, the second lost (gap 1) as a gateway timeout, the third lost at once as a reset
    expect(statuses).toEqual([201, 504, 'reset', 201]);
    expect(standIn.state().mergeRequests).toHaveLength(4);
  });

  it("gives each request the cut's fate, else approved at once or pending as Capillary has it", () => {
    const record = (id: number, status: 'PENDING' | 'APPROVED') => ({ id, victimId: id, survivorId: 1, status });
    const stories = mergeRequestStories(
      [record(1, 'APPROVED'), record(2, 'APPROVED'), record(3, 'PENDING'), record(4, 'PENDING')],
      new Map([
        [1, 'silent'],
        [3, 'pending'],
      ]),
    );
    expect(stories.map((story) => story.fate)).toEqual(['silent', 'at-once', 'pending', 'pending']);
  });
});
