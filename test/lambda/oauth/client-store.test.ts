import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ClientExistsError,
  DynamoClientStore,
  type StoredClient,
} from '../../../lambda/oauth/client-store.js';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const dbMock = mockClient(db);
const store = new DynamoClientStore(db, 'table');

const client: StoredClient = {
  clientId: 'abc',
  metadata: {
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'mcp:tools',
  },
  secretHash: 'secret-hash',
  registrationTokenHash: 'rat-hash',
  issuedAt: 1,
  updatedAt: 1,
};

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });

beforeEach(() => dbMock.reset());

describe('DynamoClientStore', () => {
  it('creates a client with a condition that it does not exist yet', async () => {
    dbMock.on(PutCommand).resolves({});
    await store.create(client);
    const input = dbMock.commandCalls(PutCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TableName: 'table',
      Item: {
        pk: 'client#abc',
        clientId: 'abc',
        secretHash: 'secret-hash',
        registrationTokenHash: 'rat-hash',
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('reports an existing client id as ClientExistsError', async () => {
    dbMock.on(PutCommand).rejects(conditionFailed());
    await expect(store.create(client)).rejects.toBeInstanceOf(ClientExistsError);
  });

  it('reads a client with a consistent read and returns only its fields', async () => {
    dbMock.on(GetCommand).resolves({ Item: { pk: 'client#abc', type: 'client', ...client } });
    const found = await store.get('abc');
    expect(found).toEqual(client);
    expect(dbMock.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({
      Key: { pk: 'client#abc' },
      ConsistentRead: true,
    });
  });

  it('returns undefined for an unknown client', async () => {
    dbMock.on(GetCommand).resolves({});
    expect(await store.get('nope')).toBeUndefined();
  });

  it('updates metadata only of a client that still exists', async () => {
    dbMock.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    expect(await store.updateMetadata('abc', client.metadata, 5)).toBe(true);
    expect(await store.updateMetadata('abc', client.metadata, 5)).toBe(false);
    expect(dbMock.commandCalls(UpdateCommand)[0]!.args[0].input.ConditionExpression).toBe(
      'attribute_exists(pk)',
    );
  });

  it('deletes a client and says whether it existed', async () => {
    dbMock.on(DeleteCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    expect(await store.delete('abc')).toBe(true);
    expect(await store.delete('abc')).toBe(false);
  });

  it('passes other storage errors on', async () => {
    dbMock.on(GetCommand).rejects(new Error('network down'));
    await expect(store.get('abc')).rejects.toThrow('network down');
  });
});
