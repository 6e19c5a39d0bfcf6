/**
 * npm run fault -- <capillary|line> <status> <times> [--path /v2/customers] [--method POST]
 * npm run fault -- <capillary|line> timeout <times> [--delay-ms 6000]        answer 504 after a delay
 * npm run fault -- <capillary|line> lost-response <times>                    do the work, lose the answer
 * npm run fault -- <capillary|line> latency <ms>                             slow every call down
 * npm run fault -- <capillary|line> state | clear | calls                    pending faults | clear them | the call log
 * npm run fault -- reset                                                     the whole local pipeline back to a fresh start
 * (all take --url <webhook URL> when the pipeline does not run on the default port)
 *
 * Tells a stand-in of the running local pipeline (`npm start`) to misbehave, through its /__admin routes.
 * Faults apply to the next matching calls in order; watch the retries in the pipeline's log stream.
 */
import { DEFAULT_WEBHOOK_URL, PipelineAdminClient, type ServiceEndpoint } from '../local/pipeline-admin-api';
import { parseCli, runCli, UsageError } from './cli';

const USAGE = `usage: npm run fault -- <capillary|line> <400|401|403|404|429|461|500|502|503|504|521|timeout|lost-response> <times> [--path <prefix>] [--method <method>] [--delay-ms <ms>]
       npm run fault -- <capillary|line> latency <ms>
       npm run fault -- <capillary|line> state | clear | calls
       npm run fault -- reset
       (add --url <webhook URL> when the pipeline does not listen on the default port)`;

function nonNegativeInteger(raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(USAGE);
  return value;
}

type AdminCall = [method: string, route: string, body?: unknown];

/** The admin calls for a command, in order: [method, route, body]. */
function adminCallsOf(
  service: string,
  command: string,
  count: string | undefined,
  values: { path?: string; method?: string; 'delay-ms': string },
): AdminCall[] {
  if (command === 'calls') return [['GET', 'calls']];
  if (command === 'state')
    return [
      ['GET', 'faults'],
      ['GET', 'config'],
    ];
  if (command === 'clear')
    return [
      ['DELETE', 'faults'],
      ['POST', 'config', { latencyMs: 0 }],
    ];
  if (command === 'reset') {
    throw new UsageError(
      `Resetting the ${service} stand-in alone would leave the user table naming what it forgot: ` +
        `\`npm run fault -- reset\` resets the whole local pipeline, \`npm run fault -- ${service} clear\` clears its faults only.`,
    );
  }
  if (command === 'latency') return [['POST', 'config', { latencyMs: nonNegativeInteger(count) }]];
  const target = {
    times: nonNegativeInteger(count),
    ...(values.path ? { pathPrefix: values.path } : {}),
    ...(values.method ? { method: values.method } : {}),
  };
  if (command === 'timeout')
    return [['POST', 'faults', { ...target, kind: 'timeout', delayMs: nonNegativeInteger(values['delay-ms']) }]];
  if (command === 'lost-response') return [['POST', 'faults', { ...target, kind: 'lost-response' }]];
  return [['POST', 'faults', { ...target, status: nonNegativeInteger(command) }]];
}

async function callStandIn(
  service: string,
  endpoint: ServiceEndpoint,
  [method, route, body]: AdminCall,
): Promise<boolean> {
  const response = await fetch(`${endpoint.url}/__admin/${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  process.stdout.write(
    `${service} stand-in ${method} /__admin/${route} → HTTP ${response.status}\n${JSON.stringify(await response.json(), null, 2)}\n`,
  );
  return response.ok;
}

async function main(): Promise<void> {
  const { values, positionals } = parseCli(
    USAGE,
    {
      url: { type: 'string', default: DEFAULT_WEBHOOK_URL },
      path: { type: 'string' },
      method: { type: 'string' },
      'delay-ms': { type: 'string', default: '6000' },
    },
    { allowPositionals: true },
  );
  const [service, command, count] = positionals;
  const admin = new PipelineAdminClient(values.url);
  if (service === 'reset' && command === undefined) {
    const { reset, untouched } = await admin.reset();
    process.stdout.write(
      `Local pipeline reset: ${reset.join(', ')} are as after a fresh \`npm start\` (stand-in customer ids are never reused).\n`,
    );
    if (untouched.length > 0) process.stdout.write(`Not reset: ${untouched.join(', ')}.\n`);
    return;
  }
  if ((service !== 'capillary' && service !== 'line') || command === undefined) throw new UsageError(USAGE);
  const calls = adminCallsOf(service, command, count, values);

  const endpoint = (await admin.status()).endpoints[service];
  if (!endpoint.standIn)
    throw new UsageError(`${service} is the real service at ${endpoint.url}, not a stand-in: it takes no faults`);
  for (const call of calls) if (!(await callStandIn(service, endpoint, call))) process.exitCode = 1;
}

runCli(main);
