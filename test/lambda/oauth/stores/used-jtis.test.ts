import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { sha256 } from '../../../../lambda/shared/crypto.js';
import { DynamoUsedJtis } from '../../../../lambda/oauth/stores/used-jtis.js';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const dbMock = mockClient(db);
const usedJtis = new DynamoUsedJtis(db, 'table');

beforeEach(() => dbMock.reset());

describe('DynamoUsedJtis', () => {
  it('records a first use with one conditional write that expires with the JWT', async () => {
    // Prepare
    dbMock.on(PutCommand).resolves({});

    // Act
    const first = await usedJtis.use('client-assertion', 'client-1', 'jti-1', 1_700_000_060);

    // Assess
    expect(first).toBe(true);
    expect(dbMock.commandCalls(PutCommand)[0]!.args[0].input).toEqual({
      TableName: 'table',
      Item: {
        pk: `jti#${sha256('client-assertion\nclient-1\njti-1')}`,
        type: 'jti',
        expiresAt: 1_700_000_060,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('answers false for a jti already used', async () => {
    dbMock.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    await expect(usedJtis.use('client-assertion', 'client-1', 'jti-1', 1)).resolves.toBe(false);
  });

  it('lets any other failure through, for the caller to answer 503', async () => {
    dbMock.on(PutCommand).rejects(new Error('throttled'));
    await expect(usedJtis.use('client-assertion', 'client-1', 'jti-1', 1)).rejects.toThrow('throttled');
  });
});
