// osls plugin (serverless.yml `plugins`): refuses to package or deploy a stage while a stage parameter without a
// default is missing or empty, with one line per setting naming the fix. Without it, osls reports each missing
// `${param:…}` once per place it is used (ten internal paths for two settings, local ones included).
//
// serverless.yml lists the settings under `custom.requiredParams` (name: ${param:name}) and gives each an empty
// default in `params.default`, so variable resolution always succeeds and this check is the one that speaks.
// Plain JavaScript: osls loads plugins with require/import, without a TypeScript loader.

/** The lines naming every required setting that is empty for this stage (none = ready to package). */
export function missingParamProblems(requiredParams, stage) {
  return Object.entries(requiredParams ?? {})
    .filter(([, value]) => value === undefined || value === null || String(value).trim() === '')
    .map(
      ([name]) =>
        `${name} is not set for stage ${stage}: pass --param ${name}=${EXAMPLES[name] ?? '…'} or add it under params.${stage} in serverless.yml`,
    );
}

/** What a value looks like, in the message (docs/deploy.md#stage-parameters). */
const EXAMPLES = {
  capillaryBaseUrl: 'https://…',
};

export default class RequiredParamsPlugin {
  constructor(serverless) {
    const check = () => {
      const problems = missingParamProblems(
        serverless.service.custom?.requiredParams,
        serverless.service.provider.stage,
      );
      if (problems.length > 0) throw new serverless.classes.Error(problems.join('\n'), 'REQUIRED_PARAM_MISSING');
    };
    // Packaging (which `sls deploy` runs first) and single-function deploys; `sls remove` and `sls print` need no values.
    this.hooks = { 'before:package:initialize': check, 'before:deploy:function:initialize': check };
  }
}
