import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { readSampleBodies } from '../../local/sample-events';

const EVENTS = path.join(__dirname, '..', '..', 'events');
const WHAT_TO_GIVE = 'give a LINE callback body (.json), a directory of them, or - for stdin';

describe('readSampleBodies', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sample-events-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a directory's .json bodies in name order, byte for byte", () => {
    // Prepare
    writeFileSync(path.join(dir, 'b.json'), '{"b":1}');
    writeFileSync(path.join(dir, 'a.json'), '{"a":1}\n');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a body');

    // Act
    const bodies = readSampleBodies(dir);

    // Assess
    expect(bodies.map(({ name, bytes }) => [name, bytes.toString()])).toEqual([
      ['a', '{"a":1}\n'],
      ['b', '{"b":1}'],
    ]);
  });

  it('names a missing file and what to give instead, in one line', () => {
    expect(() => readSampleBodies(path.join(EVENTS, 'nope.json'))).toThrow(
      expect.objectContaining({
        name: 'SampleBodiesError',
        message: `${path.join(EVENTS, 'nope.json')} does not exist: ${WHAT_TO_GIVE}`,
      }),
    );
  });

  it('says so when a directory has no bodies', () => {
    expect(() => readSampleBodies(dir)).toThrow(`${dir} has no .json files: ${WHAT_TO_GIVE}`);
  });

  it('says stdin was empty rather than posting nothing', () => {
    expect(() => readSampleBodies('-', () => Buffer.alloc(0))).toThrow(
      'stdin was empty: pipe a body in, e.g. `cat events/02-follow.json | npm run replay -- -`',
    );
    expect(readSampleBodies('-', () => Buffer.from('{}'))).toEqual([{ name: 'stdin', bytes: Buffer.from('{}') }]);
  });
});
