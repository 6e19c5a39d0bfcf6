/**
 * npm run fault -- <capillary|line> <status> <times> [--path /v2/customers] [--method POST]
 * npm run fault -- <capillary|line> timeout <times> [--delay-ms 6000]        answer 504 after a delay
 * npm run fault -- <capillary|line> lost-response <times>                    do the work, lose the answer
 * npm run fault -- <capillary|line> latency <ms>                             slow every call down
 * npm run fault -- <capillary|line> calls | reset                            show the call log | forget everything
 * (all take --url <webhook URL> when the pipeline does not run on the default port)
 *
 * Tells a stand-in of the running local pipeline (`npm start`) to misbehave, through its /__admin routes.
 * Faults apply to the next matching calls in order; watch the retries in the pipeline's log stream.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_WEBHOOK_URL, PipelineAdminClient } from '../local/pipeline-admin-api';

const USAGE = `usage: npm run fault -- <capillary|line> <429|461|500|502|503|504|521|timeout|lost-response> <times> [--path <prefix>] [--method <method>] [--delay-ms <ms>]
       npm run fault -- <capillary|line> latency <ms>
       npm run fault -- <capillary|line> calls | reset
       (add --url <webhook URL> when the pipeline does not listen on the default port)`;

function nonNegativeInteger(raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(USAGE);
  return value;
}

/** The admin call for a command: [method, route, body]. */
function adminCallOf(command: string, count: string | undefined, values: { path?: string; method?: string; 'delay-ms': string }): [string, string, unknown?] {
  if (command === 'calls') return ['GET', 'calls'];
  if (command === 'reset') return ['POST', 'reset'];
  if (command === 'latency') return ['POST', 'config', { latencyMs: nonNegativeInteger(count) }];
  const target = { times: nonNegativeInteger(count), ...(values.path ? { pathPrefix: values.path } : {}), ...(values.method ? { method: values.method } : {}) };
  if (command === 'timeout') return ['POST', 'faults', { ...target, kind: 'timeout', delayMs: nonNegativeInteger(values['delay-ms']) }];
  if (command === 'lost-response') return ['POST', 'faults', { ...target, kind: 'lost-response' }];
  return ['POST', 'faults', { ...target, status: nonNegativeInteger(command) }];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: DEFAULT_WEBHOOK_URL },
      path: { type: 'string' },
      method: { type: 'string' },
      'delay-ms': { type: 'string', default: '6000' },
    },
  });
  const [service, command, count] = positionals;
  if ((service !== 'capillary' && service !== 'line') || command === undefined) throw new Error(USAGE);

  const { endpoints } = await new PipelineAdminClient(values.url).status();
  const endpoint = endpoints[service];
  if (!endpoint.standIn) throw new Error(`${service} is the real service at ${endpoint.url}, not a stand-in: it takes no faults`);
  const [method, route, body] = adminCallOf(command, count, values);
  const response = await fetch(`${endpoint.url}/__admin/${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  process.stdout.write(`${service} stand-in ${method} /__admin/${route} → HTTP ${response.status}\n${JSON.stringify(await response.json(), null, 2)}\n`);
  if (!response.ok) process.exitCode = 1;
}

main().catch((error: unknown) => {
  const { message, cause } = error as Error & { cause?: Error };
  process.stderr.write(`${message}${cause ? ` (${cause.message}; is \`npm start\` running?)` : ''}\n`);
  process.exitCode = 1;
});
