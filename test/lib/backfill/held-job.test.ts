import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { HeldJob } from '../../../lib/backfill/held-job';
import { BackfillJobStore } from '../../../lib/store/backfill-job-store';
import { createUsersTable } from '../../../local/rigs/worker-rig';

const dynamo = new DynamoDBClient({});
afterAll(() => dynamo.destroy());

/** A running job held by `owner` for a minute. */
async function heldJob(owner = 'invocation-1') {
  const jobs = new BackfillJobStore(dynamo, await createUsersTable(dynamo));
  const started = await jobs.start('default', 'job-1', Date.now());
  const acquired = await jobs.acquire('default', started.jobId, owner, Date.now() + 60_000, Date.now());
  return { jobs, held: new HeldJob(jobs, { channel: 'default', jobId: 'job-1' }, owner, acquired!) };
}

describe('HeldJob', () => {
  it('writes a checkpoint under the hold and shows the job as written', async () => {
    const { jobs, held } = await heldJob();
    // Act
    const written = await held.checkpoint({ cursor: 'page-2', cursorIssuedAt: 1_000 });
    // Assess
    expect(written).toBe(true);
    expect(held.job).toMatchObject({ cursor: 'page-2', cursorIssuedAt: 1_000 });
    expect(await jobs.read('default')).toMatchObject({ cursor: 'page-2', cursorIssuedAt: 1_000 });
  });

  it('restarts the listing: no cursor, one restart more', async () => {
    const { held } = await heldJob();
    await held.checkpoint({ cursor: 'page-2' });
    // Act
    const written = await held.restartListing();
    // Assess
    expect(written).toBe(true);
    expect(held.job.cursor).toBeUndefined();
    expect(held.job.restarts).toBe(1);
  });

  it('answers false and writes nothing once the job was cancelled', async () => {
    const { jobs, held } = await heldJob();
    await jobs.cancel('default', Date.now());
    // Act
    const written = await held.checkpoint({ cursor: 'page-2' });
    // Assess
    expect(written).toBe(false);
    expect(held.job.cursor).toBeUndefined();
    expect(await jobs.read('default')).toMatchObject({ status: 'cancelled' });
    expect((await jobs.read('default'))?.cursor).toBeUndefined();
  });
});
