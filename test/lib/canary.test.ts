import { createRequire } from 'node:module';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { CANARY_RUNTIME, canaryName } from '../../lib/constructs/canary.js';
import { logicalId, ref, rolePermissions, synth, type Resources } from './synth.js';

type CheckOptions = {
  issuer: string;
  readClient: () => Promise<
    { client_id: string; client_secret: string } | { placeholderSince?: Date } | undefined
  >;
  requireClient: boolean;
  now?: () => number;
  fetch: (
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ) => Promise<Response>;
};
const { check, CLIENT_GRACE_MS } = createRequire(import.meta.url)('../../lib/canary/mcp-check.cjs') as {
  check: (options: CheckOptions) => Promise<string>;
  CLIENT_GRACE_MS: number;
};

let template: Template;
let canary: Resources[string];
let roleId: string;
let clientSecretId: string;

beforeAll(() => {
  ({ template } = synth({ canaryIntervalMinutes: 15 }, { bundle: false }));
  canary = Object.values(template.findResources('AWS::Synthetics::Canary') as Resources)[0]!;
  roleId = logicalId(template, 'AWS::IAM::Role', 'CanaryRole');
  clientSecretId = logicalId(template, 'AWS::SecretsManager::Secret', 'CanaryClientSecret');
});

describe('the canary', () => {
  it('runs the check every 15 minutes (the default outside the dev stage), against the issuer, on the newest Node.js runtime', () => {
    // Assess
    expect(canary.Properties).toMatchObject({
      Name: 'mcpoauth-canary',
      RuntimeVersion: CANARY_RUNTIME.name,
      Schedule: { Expression: 'rate(15 minutes)', DurationInSeconds: '0' },
      StartCanaryAfterCreation: true,
      ProvisionedResourceCleanup: 'AUTOMATIC',
      Code: { Handler: 'index.handler', Script: expect.stringContaining('tools/call') },
      RunConfig: {
        TimeoutInSeconds: 60,
        EnvironmentVariables: {
          ISSUER: expect.objectContaining({ 'Fn::Join': expect.anything() }),
          CLIENT_SECRET_ARN: { Ref: clientSecretId },
          REQUIRE_CLIENT: 'true',
        },
      },
      ExecutionRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
    expect(CANARY_RUNTIME.name).toBe('syn-nodejs-puppeteer-13.0');
  });

  it('follows canaryIntervalMinutes, and creates none with 0 in the dev stage', () => {
    // Act
    const { template: hourly } = synth({ canaryIntervalMinutes: 60 }, { bundle: false });
    const { template: none } = synth({ canaryIntervalMinutes: 0 }, { bundle: false });

    // Assess
    hourly.hasResourceProperties('AWS::Synthetics::Canary', {
      Schedule: { Expression: 'rate(1 hour)', DurationInSeconds: '0' },
    });
    none.resourceCountIs('AWS::Synthetics::Canary', 0);
    expect(Object.keys(none.toJSON().Outputs)).not.toContain('CanaryClientSecretArn');
  });

  it('alarms on a failed run (the lowest success over two intervals below 100), and notifies when the canary goes silent, not before its first run', () => {
    // Act
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources).find(
      (a) => a.Properties!.AlarmName === 'McpOAuth-canary',
    )!;
    const topic = { Ref: logicalId(template, 'AWS::SNS::Topic', 'Alarms') };

    // Assess: missing data is not a breach (a new alarm would fire before the first run reports);
    // going from OK or ALARM to INSUFFICIENT_DATA is what a canary that stopped looks like.
    expect(alarm.Properties).toMatchObject({
      Namespace: 'CloudWatchSynthetics',
      MetricName: 'SuccessPercent',
      Dimensions: [
        { Name: 'CanaryName', Value: { Ref: logicalId(template, 'AWS::Synthetics::Canary', 'Canary') } },
      ],
      Statistic: 'Minimum',
      Period: 1800,
      EvaluationPeriods: 1,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 100,
      TreatMissingData: 'missing',
      AlarmActions: [topic],
      OKActions: [topic],
      InsufficientDataActions: [topic],
    });
  });

  it('checks less, without failing, when registration is closed and no canary client can exist', () => {
    // Act
    const { template: closed } = synth(
      { registrationPolicy: 'closed', canaryIntervalMinutes: 15 },
      { bundle: false },
    );

    // Assess
    closed.hasResourceProperties('AWS::Synthetics::Canary', {
      RunConfig: Match.objectLike({ EnvironmentVariables: Match.objectLike({ REQUIRE_CLIENT: 'false' }) }),
    });
  });

  it('keeps a short, valid, unique name for long stack names', () => {
    // Assess
    expect(canaryName('McpOAuth')).toBe('mcpoauth-canary');
    expect(canaryName('McpOAuth-prod')).toBe('mcpoauth-prod-canary');
    const long = canaryName('Payments-MCP-OAuth-Production-EU');
    expect(long).toMatch(/^[0-9a-z_-]{1,21}$/);
    expect(long).not.toBe(canaryName('Payments-MCP-OAuth-Production-US'));
  });
});

describe('its artifacts and its client', () => {
  it('keeps artifacts in an encrypted, private, TLS-only bucket that expires them', () => {
    // Act
    const [bucket] = Object.values(template.findResources('AWS::S3::Bucket') as Resources);
    const bucketId = logicalId(template, 'AWS::S3::Bucket', 'CanaryArtifacts');

    // Assess
    expect(bucket!.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            ExpirationInDays: 30,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    expect(canary.Properties!.ArtifactConfig).toEqual({ S3Encryption: { EncryptionMode: 'SSE_S3' } });
  });

  it('lets only the canary role (and break-glass) read its client, which starts as the empty placeholder', () => {
    // Act
    const secret = (template.findResources('AWS::SecretsManager::Secret') as Resources)[clientSecretId]!;
    const policy = Object.values(
      template.findResources('AWS::SecretsManager::ResourcePolicy') as Resources,
    ).find((p) => p.Properties!.SecretId.Ref === clientSecretId)!;

    // Assess
    expect(secret.Properties!.SecretString).toBe('{}');
    expect(policy.Properties!.ResourcePolicy.Statement[0]).toMatchObject({
      Effect: 'Deny',
      Action: 'secretsmanager:GetSecretValue',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [roleId, 'Arn'] }] } },
    });
  });

  it('gives the canary role what the runtime needs, its own bucket and log group, and its client: nothing else', () => {
    // Act
    const permissions = rolePermissions(template, roleId);

    // Assess
    expect(permissions.map((p) => p.split(' ').slice(0, 2).join(' '))).toEqual(
      [
        'Allow cloudwatch:PutMetricData',
        'Allow logs:CreateLogGroup',
        'Allow logs:CreateLogStream',
        'Allow logs:PutLogEvents',
        'Allow s3:GetBucketLocation',
        'Allow s3:ListAllMyBuckets',
        'Allow s3:PutObject',
        'Allow secretsmanager:GetSecretValue',
      ].sort(),
    );
    expect(permissions).toContain(`Allow secretsmanager:GetSecretValue ${ref(clientSecretId)}`);
    expect(permissions.find((p) => p.includes('logs:PutLogEvents'))).toContain(
      ':log-group:/aws/lambda/cwsyn-mcpoauth-canary-*',
    );
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'cloudwatch:PutMetricData',
            Condition: { StringEquals: { 'cloudwatch:namespace': 'CloudWatchSynthetics' } },
          }),
        ]),
      },
    });
  });
});

describe('the check it runs (lib/canary/mcp-check.cjs)', () => {
  const ISSUER = 'https://mcp.example.com';
  const CLIENT = { client_id: 'canary', client_secret: 's3cret/+' };
  type Call = { url: string; method: string; headers: Record<string, string>; body?: string };

  /** A stand-in server: the metadata, a token for CLIENT, and `add` on /mcp; `broken` changes one answer. */
  function server(broken: Partial<Record<'metadata' | 'token' | 'mcp', Response>> = {}) {
    const calls: Call[] = [];
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json', ...headers },
      });
    const fetch = async (
      url: string,
      init: { method: string; headers: Record<string, string>; body?: string },
    ) => {
      calls.push({ url, ...init });
      if (url === `${ISSUER}/.well-known/oauth-authorization-server`) {
        return broken.metadata ?? json(200, { issuer: ISSUER, token_endpoint: `${ISSUER}/token` });
      }
      if (url === `${ISSUER}/token`) {
        const basic = Buffer.from(`canary:${encodeURIComponent('s3cret/+')}`).toString('base64');
        if (init.headers.authorization !== `Basic ${basic}`) return json(401, { error: 'invalid_client' });
        return broken.token ?? json(200, { access_token: 'at', token_type: 'Bearer' });
      }
      if (url === `${ISSUER}/mcp`) {
        if (init.headers.authorization !== 'Bearer at') {
          return json(
            401,
            {},
            {
              'www-authenticate': `Bearer resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/mcp"`,
            },
          );
        }
        return broken.mcp ?? json(200, { jsonrpc: '2.0', id: 1, result: { structuredContent: { sum: 5 } } });
      }
      return json(404, {});
    };
    return { calls, fetch };
  }

  it('passes when the metadata, the token and add(2, 3) answer as they should', async () => {
    // Prepare
    const { calls, fetch } = server();

    // Act
    const summary = await check({
      issuer: ISSUER,
      readClient: async () => CLIENT,
      requireClient: true,
      fetch,
    });

    // Assess
    expect(summary).toBe('metadata, token and tools/call answered');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `GET ${ISSUER}/.well-known/oauth-authorization-server`,
      `POST ${ISSUER}/token`,
      `POST ${ISSUER}/mcp`,
    ]);
    expect(calls[1]!.body).toBe('grant_type=client_credentials');
    expect(JSON.parse(calls[2]!.body!)).toMatchObject({
      method: 'tools/call',
      params: { name: 'add', arguments: { a: 2, b: 3 } },
    });
  });

  it.each<[string, Parameters<typeof server>[0], string]>([
    [
      'the metadata names another issuer',
      { metadata: Response.json({ issuer: 'https://other.example.com', token_endpoint: 'x' }) },
      'step metadata: issuer is "https://other.example.com"',
    ],
    [
      'the token endpoint refuses',
      { token: Response.json({ error: 'invalid_client' }, { status: 401 }) },
      'step token: HTTP 401, expected 200',
    ],
    [
      'the tool answers a JSON-RPC error',
      { mcp: Response.json({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'Internal error' } }) },
      'step tools/call: JSON-RPC error -32603: Internal error',
    ],
    [
      'the tool answers the wrong sum',
      { mcp: Response.json({ jsonrpc: '2.0', id: 1, result: { structuredContent: { sum: 6 } } }) },
      'step tools/call: add(2, 3) returned 6',
    ],
    ['/mcp fails', { mcp: new Response('', { status: 503 }) }, 'step tools/call: HTTP 503, expected 200'],
  ])('fails, naming the step, when %s', async (_, broken, message) => {
    // Prepare
    const { fetch } = server(broken);

    // Act
    const run = check({ issuer: ISSUER, readClient: async () => CLIENT, requireClient: true, fetch });

    // Assess
    await expect(run).rejects.toThrow(message);
  });

  it('passes with the 401 challenge instead of a tool call within the first hour of the placeholder, while deploy.sh has not registered the client yet', async () => {
    // Prepare: the stack created the secret ({}) 20 minutes ago
    const { calls, fetch } = server();
    const now = Date.parse('2026-11-22T10:20:00Z');
    const placeholderSince = new Date('2026-11-22T10:00:00Z');

    // Act
    const summary = await check({
      issuer: ISSUER,
      readClient: async () => ({ placeholderSince }),
      requireClient: true,
      fetch,
      now: () => now,
    });

    // Assess
    expect(summary).toBe(
      'metadata and the 401 challenge answered (no canary client yet, 20 minutes after the stack created its secret)',
    );
    expect(calls.map((c) => c.url)).toEqual([
      `${ISSUER}/.well-known/oauth-authorization-server`,
      `${ISSUER}/mcp`,
    ]);
  });

  it.each<[string, { placeholderSince?: Date } | undefined]>([
    [
      'an hour after the stack created its secret',
      { placeholderSince: new Date(Date.parse('2026-11-22T10:20:00Z') - CLIENT_GRACE_MS - 1000) },
    ],
    ['when the time it was created is unknown', undefined],
  ])('fails, pointing at the documentation, with no canary client %s', async (_, read) => {
    // Prepare
    const { fetch } = server();

    const run = () =>
      check({
        issuer: ISSUER,
        readClient: async () => read,
        requireClient: true,
        fetch,
        now: () => Date.parse('2026-11-22T10:20:00Z'),
      });

    // Act and assess: the check runs inside its own assertion, so its rejection is never left
    // unobserved when the assertion before it fails
    expect(CLIENT_GRACE_MS).toBe(60 * 60_000);
    await expect(run()).rejects.toThrow(
      'step client: the canary client secret holds no client_id and client_secret yet',
    );
  });

  it('still fails a broken /mcp within the first hour', async () => {
    // Prepare: /mcp answers 500 where it should challenge
    const { fetch } = server();
    const unauthenticated = async (url: string, init: Parameters<typeof fetch>[1]) =>
      url === `${ISSUER}/mcp` ? new Response('', { status: 500 }) : fetch(url, init);

    // Act
    const run = check({
      issuer: ISSUER,
      readClient: async () => ({ placeholderSince: new Date() }),
      requireClient: true,
      fetch: unauthenticated,
    });

    // Assess
    await expect(run).rejects.toThrow('step challenge: /mcp without a token answered 500, expected 401');
  });

  it('checks the 401 challenge of /mcp instead of a tool call when registration is closed', async () => {
    // Prepare
    const { calls, fetch } = server();

    // Act
    const summary = await check({
      issuer: ISSUER,
      readClient: async () => undefined,
      requireClient: false,
      fetch,
    });

    // Assess
    expect(summary).toContain('the 401 challenge');
    expect(calls.map((c) => c.url)).toEqual([
      `${ISSUER}/.well-known/oauth-authorization-server`,
      `${ISSUER}/mcp`,
    ]);
  });
});
