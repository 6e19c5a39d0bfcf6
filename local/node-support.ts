/**
 * Which Node runs the local tools, decided once (README.md#requirements): Lambda runs nodejs22.x, and Node 20 is past
 * its end of life (April 2026). Node 20.19+ still runs everything here, so on it the AWS SDK's nine-line warning
 * (SDK releases after early January 2027 need Node 22) becomes one line naming the fix, below the first screen.
 */
export const SUPPORTED_NODE_MAJOR = 22;

/**
 * On a Node older than SUPPORTED_NODE_MAJOR: turns the SDK's own warning off (its documented switch,
 * https://github.com/aws/aws-sdk-js-v3/issues/7983) and returns the line to print instead. Call it before the first
 * SDK client is built; the SDK reads the variable then. An explicit value in the environment is left alone.
 */
export function replaceOldNodeWarning(version: string = process.version): string | undefined {
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (major >= SUPPORTED_NODE_MAJOR) return undefined;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return `Node ${version} is past its end of life; this works on it, but use Node ${SUPPORTED_NODE_MAJOR} as Lambda does (\`nvm use\` reads .nvmrc).`;
}

/**
 * For a command-line tool or the test run: on an old Node, the SDK's nine-line warning off and one line on stderr
 * instead, once. Nothing when the environment already chose (the switch set, e.g. by the parent test run).
 */
export function quietOldNodeWarning(
  version: string = process.version,
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): void {
  if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED !== undefined) return;
  const line = replaceOldNodeWarning(version);
  if (line !== undefined) write(line);
}
