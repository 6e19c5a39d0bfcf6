import { deployedFunction } from '../../local/local-pipeline';
import { readServerlessYml, stageParams } from '../../ops/serverless-resources';

describe('deployedFunction (the local functions are sized as serverless.yml deploys them)', () => {
  it("gives the worker serverless.yml's memory and its timeout parameter, not numbers of its own", () => {
    const worker = (readServerlessYml().functions as Record<string, { memorySize: number }>).worker;
    expect(deployedFunction('local', 'worker')).toEqual({
      name: 'line-capillary-bridge-local-worker',
      memoryMb: worker?.memorySize,
      timeoutSeconds: Number(stageParams('local').workerTimeoutSeconds),
    });
    expect(deployedFunction('local', 'worker')).toMatchObject({ memoryMb: 128, timeoutSeconds: 60 });
  });

  it('reads literal sizes too, and refuses a function serverless.yml does not declare', () => {
    expect(deployedFunction('local', 'linkApi')).toMatchObject({ memoryMb: 256, timeoutSeconds: 10 });
    expect(() => deployedFunction('local', 'nope')).toThrow('serverless.yml declares no function nope');
  });
});
