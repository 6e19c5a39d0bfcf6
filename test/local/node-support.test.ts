import { quietOldNodeWarning, replaceOldNodeWarning } from '../../local/node-support';

const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

describe('replaceOldNodeWarning', () => {
  const saved = process.env[SWITCH];
  beforeEach(() => delete process.env[SWITCH]);
  afterAll(() => {
    if (saved === undefined) delete process.env[SWITCH];
    else process.env[SWITCH] = saved;
  });

  it("on Node 20, turns the SDK's warning off and gives one line naming the fix", () => {
    expect(replaceOldNodeWarning('v20.19.4')).toBe(
      'Node v20.19.4 is past its end of life; this works on it, but use Node 22 as Lambda does (`nvm use` reads .nvmrc).',
    );
    expect(process.env[SWITCH]).toBe('true');
  });

  it('on Node 22 or later, changes nothing', () => {
    expect(replaceOldNodeWarning('v22.12.0')).toBeUndefined();
    expect(replaceOldNodeWarning('v24.1.0')).toBeUndefined();
    expect(process.env[SWITCH]).toBeUndefined();
  });

  it('leaves an explicit choice in the environment alone', () => {
    process.env[SWITCH] = 'false';
    replaceOldNodeWarning('v20.19.4');
    expect(process.env[SWITCH]).toBe('false');
  });
});

describe('quietOldNodeWarning', () => {
  const saved = process.env[SWITCH];
  beforeEach(() => delete process.env[SWITCH]);
  afterAll(() => {
    if (saved === undefined) delete process.env[SWITCH];
    else process.env[SWITCH] = saved;
  });

  it('on Node 20 writes the one line once, then nothing: the switch is set for the rest of the process', () => {
    const written: string[] = [];
    quietOldNodeWarning('v20.19.4', (line) => written.push(line));
    quietOldNodeWarning('v20.19.4', (line) => written.push(line));
    expect(written).toEqual([expect.stringMatching(/^Node v20\.19\.4 is past its end of life/)]);
  });

  it('writes nothing when the environment already chose (the test run sets the switch for its workers)', () => {
    process.env[SWITCH] = 'true';
    const written: string[] = [];
    quietOldNodeWarning('v20.19.4', (line) => written.push(line));
    expect(written).toEqual([]);
  });
});
