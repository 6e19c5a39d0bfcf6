/**
 * `npm run demo` (`npm start -- --replay events/`) as a newcomer runs it: after the replay's reports, the member linked
 * to the account-link sample's user shows the menu of their tier, then the next tier's once Capillary raised it.
 */
import { maskUserId } from '../../lib/observability/telemetry';
import { DEMO_MEMBER_MOBILE } from '../../local/loyalty-demo';
import { LOCAL_TIER_MENUS } from '../../local/sample-events';
import type { CapillaryState } from '../../local/standins/capillary-standin';
import type { LineStandInState } from '../../local/standins/line-standin';
import { expectDocSample } from '../support/doc-samples';
import { eventually, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process';

/** The user of events/05-account-link.json. */
const USER = 'Ua1b2c3d4e5f60718293a4b5c6d7e8f90';

let demo: PipelineProcess;

beforeAll(async () => {
  demo = await startPipelineProcess(90_000, ['--replay', 'events/']);
}, 120_000);

afterAll(() => {
  process.kill(-(demo.process.pid as number), 'SIGKILL');
});

const stateOf = async <T>(url: string): Promise<T> => (await (await fetch(`${url}/__admin/state`)).json()) as T;

it("shows the member's menu after the link, then the next tier's menu once Capillary raised the tier", async () => {
  // Act
  const output = await eventually(
    () => (/Replay of .* done|Replay problems/.test(demo.output()) ? demo.output() : undefined),
    'the end of the demo',
    120_000,
  );
  // Assess
  expect(output).not.toMatch(/Replay problems/);
  const section = /^Loyalty in LINE:[\s\S]*?(?=═)/m.exec(output)?.[0] ?? '';
  const [silver, gold] = LOCAL_TIER_MENUS;
  const heading = new RegExp(
    `^Loyalty in LINE: member (\\d+), linked through the brand page to the user of 05-account-link \\(logs: ${maskUserId(USER)}\\)$`,
    'm',
  );
  expect(section).toMatch(heading);
  expect(section).toMatch(
    new RegExp(`after the link +tier Silver +→ menu ${silver?.richMenuId} \\(Silver members\\)\n`),
  );
  expect(section).toMatch(
    new RegExp(
      `tier raised by Capillary +tier Gold +→ menu ${gold?.richMenuId} \\(Gold members\\), [\\d.]+ s after the change \\(worker: linked, no-map\\)\n`,
    ),
  );
  expect(section).not.toContain(USER);
  expectDocSample('docs/local.md', 'npm run demo', section, [/[\d.]+ s(?= after the change)/]);
  // What the lines say is what the stand-ins hold: the member is Gold, and LINE was asked for Gold's menu.
  const memberId = Number(heading.exec(section)?.[1]);
  const capillary = await stateOf<CapillaryState>(demo.status.endpoints.capillary.url);
  const member = capillary.customers.find(({ id }) => id === memberId);
  expect(member?.profiles.flatMap(({ identifiers }) => identifiers)).toContainEqual({
    type: 'mobile',
    value: DEMO_MEMBER_MOBILE,
  });
  expect(capillary.loyalty[memberId]?.tierNumber).toBe(2);
  const line = await stateOf<LineStandInState>(demo.status.endpoints.line.url);
  expect(line.userRichMenus[USER]).toBe(gold?.richMenuId);
}, 150_000);

it('keeps the tier menus through a reset, as the brand created them on LINE', async () => {
  // Act
  await fetch(`${demo.status.endpoints.adminUrl}reset`, { method: 'POST' });
  // Assess
  const line = await stateOf<LineStandInState>(demo.status.endpoints.line.url);
  expect(line.userRichMenus).toEqual({});
  expect(line.richMenus).toEqual(LOCAL_TIER_MENUS.map(({ richMenuId, name }) => ({ richMenuId, name, aliasIds: [] })));
}, 60_000);
