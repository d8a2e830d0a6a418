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
} from '../../../../lambda/oauth/stores/client-store.js';

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

describe('DynamoClientStore client ids', () => {
  it.each([
    ['of 2,048 characters', 'a'.repeat(2048)],
    ['of 65 characters', 'a'.repeat(65)],
    ['that is empty', ''],
    ['with a space', 'abc def'],
    ['with a key separator', 'abc#x'],
    ['with a path', '../abc'],
    ['with a trailing newline', 'abc\n'],
    ['with a non-ASCII letter', 'abcé'],
  ])('returns undefined for an id %s without a storage call', async (_, clientId) => {
    // Prepare
    dbMock.on(GetCommand).resolves({ Item: { pk: `client#${clientId}`, type: 'client', ...client } });

    // Act
    const found = await store.get(clientId);

    // Assess
    expect(found).toBeUndefined();
    expect(dbMock.calls()).toHaveLength(0);
  });

  it('looks up the longest well-formed id', async () => {
    // Prepare
    const clientId = 'A-z_9'.repeat(12) + 'abcd';
    dbMock.on(GetCommand).resolves({ Item: { pk: `client#${clientId}`, ...client, clientId } });

    // Act
    const found = await store.get(clientId);

    // Assess
    expect(clientId).toHaveLength(64);
    expect(found?.clientId).toBe(clientId);
    expect(dbMock.commandCalls(GetCommand)[0]!.args[0].input.Key).toEqual({ pk: `client#${clientId}` });
  });
});

describe('DynamoClientStore expiring clients', () => {
  const NOW = 1_700_000_000;
  const clockedStore = new DynamoClientStore(db, 'table', () => NOW * 1000 + 500);
  const interactive: StoredClient = {
    ...client,
    metadata: { ...client.metadata, grant_types: ['authorization_code', 'refresh_token'] },
    expiresAt: NOW + 86_400,
  };

  it('returns the expiry of a client that has one', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({ Item: { pk: 'client#abc', type: 'client', ...interactive } });

    // Act
    const found = await clockedStore.get('abc');

    // Assess
    expect(found).toEqual(interactive);
  });

  it('treats a client whose expiry has passed as unknown, before DynamoDB deletes it', async () => {
    // Prepare
    dbMock
      .on(GetCommand)
      .resolvesOnce({ Item: { pk: 'client#abc', ...interactive, expiresAt: NOW - 1 } })
      .resolvesOnce({ Item: { pk: 'client#abc', ...interactive, expiresAt: NOW } });

    // Act
    const pastExpiry = await clockedStore.get('abc');
    const atExpiry = await clockedStore.get('abc');

    // Assess
    expect(pastExpiry).toBeUndefined();
    expect(atExpiry).toBeUndefined();
  });

  it('returns a client until its expiry second', async () => {
    // Prepare
    dbMock.on(GetCommand).resolves({ Item: { pk: 'client#abc', ...interactive, expiresAt: NOW + 1 } });

    // Act
    const found = await clockedStore.get('abc');

    // Assess
    expect(found?.expiresAt).toBe(NOW + 1);
  });

  it('extends only a client that expires, and only forward', async () => {
    // Prepare
    dbMock.on(UpdateCommand).resolves({});

    // Act
    await clockedStore.extend('abc', NOW + 90 * 86_400);

    // Assess
    expect(dbMock.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
      TableName: 'table',
      Key: { pk: 'client#abc' },
      UpdateExpression: 'SET expiresAt = :e',
      ConditionExpression: 'expiresAt > :now AND expiresAt < :e',
      ExpressionAttributeValues: { ':e': NOW + 90 * 86_400, ':now': NOW },
    });
  });

  it('leaves a client without expiry, a later expiry or a deleted client alone without failing', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const extending = store.extend('abc', NOW + 90 * 86_400);

    // Assess
    await expect(extending).resolves.toBeUndefined();
  });

  it('passes other storage errors on when extending', async () => {
    // Prepare
    dbMock.on(UpdateCommand).rejects(new Error('network down'));

    // Act
    const extending = store.extend('abc', NOW + 90 * 86_400);

    // Assess
    await expect(extending).rejects.toThrow('network down');
  });
});
