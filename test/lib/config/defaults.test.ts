import { readFileSync } from 'node:fs';
import path from 'node:path';

import { DEFAULTS, SERVERLESS_PARAMS, TELEMETRY } from '../../../lib/config/defaults';
import { LOCAL_CREDENTIALS } from '../../../local/local-credentials';
import { readServerlessYml, type Yaml } from '../../../ops/serverless-resources';

const README = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');

/** The README configuration table as setting → default; "`A` / `B` | `1` / `2`" rows name two settings. */
function readmeDefaults(): Map<string, string> {
  const section = README.slice(
    README.indexOf('## Configuration'),
    README.indexOf('\n## ', README.indexOf('## Configuration') + 1),
  );
  const defaults = new Map<string, string>();
  for (const line of section.split('\n').filter((row) => row.startsWith('| `'))) {
    const [names = '', values = ''] = line
      .split('|')
      .slice(1, 3)
      .map((cell) => cell.trim());
    const split = (cell: string) => cell.split(' / ').map((part) => part.replace(/`/g, '').trim());
    split(names).forEach((name, index) => defaults.set(name, split(values)[index] ?? ''));
  }
  return defaults;
}

describe('each default is written once', () => {
  const serverless = readServerlessYml();
  const params = (serverless.params as Record<string, Yaml>).default as Yaml;
  const readme = readmeDefaults();

  it.each(Object.entries(SERVERLESS_PARAMS))(
    'serverless.yml params.default.%s agrees with config/defaults (%s)',
    (env, param) => {
      expect(String(params[param as string])).toBe(String(DEFAULTS[env as keyof typeof DEFAULTS]));
    },
  );

  it.each(Object.keys(DEFAULTS))('the README configuration table gives the default of %s', (env) => {
    const setting = SERVERLESS_PARAMS[env as keyof typeof DEFAULTS] ?? env;
    expect(readme.get(setting)).toBe(String(DEFAULTS[env as keyof typeof DEFAULTS]));
  });

  it('names the service and the metrics namespace the alarms watch as telemetry does', () => {
    expect(serverless.service).toBe(TELEMETRY.serviceName);
    expect((serverless.custom as Yaml).metricsNamespace).toBe(TELEMETRY.metricsNamespace);
  });

  it('gives `--stage local` the local pipeline credentials', () => {
    const local = ((serverless.custom as Yaml).environment as Record<string, Record<string, Yaml>>).local!;
    const worker = (local.worker as Record<string, Yaml>).oauth!;
    expect(local.webhook!.LINE_CHANNEL_SECRET).toBe(LOCAL_CREDENTIALS.lineChannelSecret);
    expect(worker.LINE_CHANNEL_ACCESS_TOKEN).toBe(LOCAL_CREDENTIALS.lineChannelAccessToken);
    expect(worker.CAPILLARY_CLIENT_KEY).toBe(LOCAL_CREDENTIALS.capillaryClientKey);
    expect(worker.CAPILLARY_CLIENT_SECRET).toBe(LOCAL_CREDENTIALS.capillaryClientSecret);
    expect(local.linkApi!.LINK_API_TOKEN).toBe(LOCAL_CREDENTIALS.linkApiToken);
    expect(worker.CAPILLARY_BEHAVIOURAL_EVENTS_CREDENTIALS).toBe(
      LOCAL_CREDENTIALS.capillaryBehaviouralEventsCredentials,
    );
    expect((serverless.params as Record<string, Yaml>).local!.capillaryLineAccountId).toBe(
      LOCAL_CREDENTIALS.capillaryLineAccountId,
    );
  });
});
