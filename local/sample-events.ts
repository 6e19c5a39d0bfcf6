import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BridgeError } from '../lib/errors';

import { LOCAL_CREDENTIALS } from './local-credentials';

/** The local channel secret: the samples in events/ and the test vectors of docs/line.md#signature are signed with it. */
export const LOCAL_CHANNEL_SECRET = LOCAL_CREDENTIALS.lineChannelSecret;
export const LOCAL_WEBHOOK_PATH = '/line/webhook';

export interface SampleBody {
  name: string;
  /** exact bytes, never re-serialised: the signature covers them */
  bytes: Buffer;
}

/** Nothing to replay at that target; the message says what would be. */
export class SampleBodiesError extends BridgeError {
  override readonly name = 'SampleBodiesError';

  constructor(readonly target: string, problem: string, options?: { cause?: unknown }) {
    super(`${target === '-' ? 'stdin' : target} ${problem}`, options);
  }
}

const WHAT_TO_GIVE = 'give a LINE callback body (.json), a directory of them, or - for stdin';

function statOf(target: string) {
  try {
    return statSync(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SampleBodiesError(target, `${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}: ${WHAT_TO_GIVE}`, { cause: error });
  }
}

/**
 * A file, every *.json body directly inside a directory (sorted by name), or stdin for "-". Checked before anything
 * is posted (or, for `npm start -- --replay`, started): a missing file or an empty stdin is one line, not a stack.
 */
export function readSampleBodies(target: string, stdin: () => Buffer = () => readFileSync(0)): SampleBody[] {
  if (target === '-') {
    const bytes = stdin();
    if (bytes.length === 0) throw new SampleBodiesError(target, 'was empty: pipe a body in, e.g. `cat events/02-follow.json | npm run replay -- -`');
    return [{ name: 'stdin', bytes }];
  }
  if (statOf(target).isDirectory()) {
    const files = readdirSync(target).filter((file) => file.endsWith('.json')).sort();
    if (files.length === 0) throw new SampleBodiesError(target, `has no .json files: ${WHAT_TO_GIVE}`);
    return files.map((file) => ({ name: basename(file, '.json'), bytes: readFileSync(join(target, file)) }));
  }
  return [{ name: basename(target, '.json'), bytes: readFileSync(target) }];
}
