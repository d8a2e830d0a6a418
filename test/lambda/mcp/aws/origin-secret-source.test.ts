import type { SignedRequest } from '../../../../lambda/mcp/aws/aws-json-request.js';
import {
  originSecretOptionsFromEnvironment,
  SignedOriginSecretSource,
} from '../../../../lambda/mcp/aws/origin-secret-source.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:EdgeOriginSecret-AbC123';
const ENDPOINT = 'https://secretsmanager.us-east-1.amazonaws.com/';

function sourceAnswering(status: number, body: unknown, calls: SignedRequest[] = []) {
  return new SignedOriginSecretSource({
    secretId: ARN,
    endpoint: ENDPOINT,
    region: 'us-east-1',
    credentials: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' }),
    now: () => new Date(Date.UTC(2026, 0, 15, 12, 0, 0)),
    send: async (request) => {
      calls.push(request);
      return { status, body: JSON.stringify(body) };
    },
  });
}

describe('SignedOriginSecretSource', () => {
  it('reads the secret string with one signed GetSecretValue at the endpoint the stack gave', async () => {
    // Prepare
    const calls: SignedRequest[] = [];
    const source = sourceAnswering(200, { ARN, SecretString: '{"current":"x"}' }, calls);

    // Act
    const value = await source.load();

    // Assess
    expect(value).toBe('{"current":"x"}');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe(ENDPOINT);
    expect(JSON.parse(calls[0]!.body)).toEqual({ SecretId: ARN });
    expect(calls[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(calls[0]!.headers.authorization).toContain('/20260115/us-east-1/secretsmanager/aws4_request');
  });

  it('fails with the status, and nothing of the answer, when Secrets Manager refuses', async () => {
    // Prepare
    const source = sourceAnswering(400, { __type: 'AccessDeniedException', Message: 'not allowed' });

    // Act
    const load = source.load();

    // Assess
    await expect(load).rejects.toThrow('GetSecretValue answered 400');
  });
});

describe('originSecretOptionsFromEnvironment', () => {
  it('turns the check on only when the stack set ORIGIN_SECRET_ARN, and then needs the endpoint', () => {
    // Assess
    expect(originSecretOptionsFromEnvironment({ AWS_REGION: 'us-east-1' })).toBeUndefined();
    expect(() =>
      originSecretOptionsFromEnvironment({ AWS_REGION: 'us-east-1', ORIGIN_SECRET_ARN: ARN }),
    ).toThrow('SECRETS_MANAGER_ENDPOINT is required');
    expect(
      originSecretOptionsFromEnvironment({
        AWS_REGION: 'us-east-1',
        ORIGIN_SECRET_ARN: ARN,
        SECRETS_MANAGER_ENDPOINT: ENDPOINT,
      }),
    ).toMatchObject({ secretId: ARN, endpoint: ENDPOINT, region: 'us-east-1' });
  });
});
