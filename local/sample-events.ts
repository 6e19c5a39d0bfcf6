import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

import { LOCAL_CREDENTIALS } from './local-credentials';

/** The local channel secret: the samples in events/ and the test vectors of docs/line.md#signature are signed with it. */
export const LOCAL_CHANNEL_SECRET = LOCAL_CREDENTIALS.lineChannelSecret;
export const LOCAL_WEBHOOK_PATH = '/line/webhook';

export interface SampleBody {
  name: string;
  /** exact bytes, never re-serialised: the signature covers them */
  bytes: Buffer;
}

/** A file, every *.json body directly inside a directory (sorted by name), or stdin for "-". */
export function readSampleBodies(target: string, stdin: () => Buffer = () => readFileSync(0)): SampleBody[] {
  if (target === '-') return [{ name: 'stdin', bytes: stdin() }];
  if (statSync(target).isDirectory()) {
    return readdirSync(target)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => ({ name: basename(file, '.json'), bytes: readFileSync(join(target, file)) }));
  }
  return [{ name: basename(target, '.json'), bytes: readFileSync(target) }];
}
