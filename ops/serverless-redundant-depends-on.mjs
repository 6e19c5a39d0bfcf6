// osls plugin (serverless.yml `plugins`): the Framework writes `DependsOn` next to a `Ref` or `Fn::GetAtt` of the same
// resource (a function on its role, an HTTP API route on its integration, the stage on its access-log group), which
// CloudFormation already orders by; cfn-lint reports each as W3005. This drops exactly those entries, once the
// template is complete and before it is written. Plain JavaScript: osls loads plugins without a TypeScript loader.

/** The logical ids `value` refers to: Ref, Fn::GetAtt, and `${Id}` / `${Id.Attribute}` inside Fn::Sub. */
export function referencedIds(value, ids = new Set()) {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, ids);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'Ref' && typeof item === 'string') ids.add(item);
      else if (key === 'Fn::GetAtt') ids.add(Array.isArray(item) ? item[0] : String(item).split('.')[0]);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(item) ? item[0] : item;
        for (const match of String(text).matchAll(/\$\{([^!}][^}.]*)[^}]*\}/g)) ids.add(match[1]);
        referencedIds(Array.isArray(item) ? item[1] : undefined, ids);
      } else referencedIds(item, ids);
    }
  }
  return ids;
}

/** Removes, in place, every DependsOn entry the resource's own properties already reference. */
export function dropRedundantDependsOn(resources) {
  for (const resource of Object.values(resources)) {
    if (resource.DependsOn === undefined) continue;
    const referenced = referencedIds(resource.Properties);
    const needed = [resource.DependsOn].flat().filter((id) => !referenced.has(id));
    if (needed.length === 0) delete resource.DependsOn;
    else resource.DependsOn = needed;
  }
}

export default class RedundantDependsOnPlugin {
  constructor(serverless) {
    this.hooks = {
      'before:aws:package:finalize:saveServiceState': () =>
        dropRedundantDependsOn(serverless.service.provider.compiledCloudFormationTemplate.Resources),
    };
  }
}
