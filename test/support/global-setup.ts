import { startAwsServers } from '../../local/aws-servers';
import { quietOldNodeWarning } from '../../local/node-support';

/**
 * One dynalite and one fauxqs per jest run, on ephemeral loopback ports. Test files create their own
 * uniquely named tables and queues, so they never share state. Workers inherit the endpoints through
 * the standard AWS_ENDPOINT_URL_* variables, exactly as the real SDK clients read them.
 */
export default async function globalSetup(): Promise<void> {
  // Once for the whole run: the switch it sets reaches every test worker, so none prints the SDK's nine lines.
  quietOldNodeWarning();
  const servers = await startAwsServers({ dynamoPort: 0, sqsPort: 0 });
  Object.assign(process.env, servers.env);
  // Quiet by default; TEST_LOG_LEVEL=DEBUG shows the handlers' structured logs.
  process.env.POWERTOOLS_LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  (globalThis as { __awsServers?: { stop(): Promise<void> } }).__awsServers = servers;
}
