export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __awsServers?: { stop(): Promise<void> } }).__awsServers?.stop();
}
