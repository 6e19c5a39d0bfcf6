import './quiet-telemetry';
import { startAwsServers } from '../lib/local/aws-servers';
import { startCapillaryStandIn } from '../lib/local/capillary-standin';
(async () => {
  const servers = await startAwsServers({ dynamoPort: 0, sqsPort: 0 });
  Object.assign(process.env, servers.env);
  const { measureThroughput } = await import('./worker-throughput');
  const { packageDeployment } = await import('./deployment');
  const d = packageDeployment();
  const runs = await measureThroughput({ profile: { rateLimitsPerMinute: [1200], concurrencies: [2], backlogEvents: 40, windowSeconds: 2, latencyMs: 20 }, registrationMode: 'instore+line', worker: d.worker, batchSize: 10 }, [2, 1], (r) => console.log(r));
  d.dispose(); await servers.stop(); process.exit(0);
})();
