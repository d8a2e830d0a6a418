/**
 * The one DynamoDB table of the design (`doc/architecture.md`): clients now; pending
 * authorizations, codes and refresh tokens later. Its key schema comes from
 * `lambda/shared/table.ts`, which the local server uses too.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  MCP_READ_INDEX,
  PUBLIC_KEYS_ITEM_KEY,
  REVOCATION_KEY_PREFIX,
} from '../../lambda/shared/revocations.js';
import { TABLE_SCHEMA } from '../../lambda/shared/table.js';

export interface StorageProps {
  /** RETAIN by default in the stack: registered clients outlive a mistaken `cdk destroy`. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * What the store code calls, and no more: single-item reads and conditional single-item writes
 * (the design's atomicity model). No Scan, no batch, no transactions. Add an action here when
 * the code starts to need it.
 */
export const ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];

export class Storage extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      // Pay per request: nothing to pay at zero traffic, nothing to size at a million.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (not the default AWS owned key) makes key use visible in CloudTrail.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // A retained table is also protected from deletion by hand; a destroyable one cannot be.
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
    // Sparse: the revocation markers and the published public keys (partition `mcp`), and the
    // admin command's access index (clients, users, grants: `lambda/oauth/stores/access-index.ts`)
    // carry its keys. A query of it returns the keys and the three projected attributes only, so
    // the mcp function, which may query this index only, never sees a code, token, secret, name
    // or email. The access index needed no index of its own (doc/architecture.md). Adding it to
    // a deployed table is one in-place update (CloudFormation adds one index per update).
    this.table.addGlobalSecondaryIndex({
      indexName: MCP_READ_INDEX.name,
      partitionKey: { name: MCP_READ_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: MCP_READ_INDEX.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...MCP_READ_INDEX.projected],
    });
  }

  /**
   * Lets a function read the markers and the public keys with `Query` on the `mcp-reads` index,
   * and nothing else of the table.
   */
  grantMcpReads(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: [`${this.table.tableArn}/index/${MCP_READ_INDEX.name}`],
    });
  }

  /**
   * Lets the rotation publish the public keys to their item, and carry the earlier revocation list
   * over to markers once (`lambda/rotate-keys/legacy-revocations.ts`): single items under those
   * keys only.
   */
  grantKeyPublication(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [PUBLIC_KEYS_ITEM_KEY, `${REVOCATION_KEY_PREFIX}*`],
        },
      },
    });
  }

  /**
   * Lets a function read the earlier revocation list (`LEGACY_REVOCATION` in
   * `lambda/shared/revocations.ts`) and nothing else of the table: `BatchGetItem` on keys that
   * start with its prefix. The mcp function needs it only on a stack upgraded from that layout,
   * until its next rotation.
   */
  grantRevocationListRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:BatchGetItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${REVOCATION_KEY_PREFIX}*`] },
      },
    });
  }

  /** Lets a function read and write single items of the table. */
  grantItemReadWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ITEM_ACTIONS, resourceArns: [this.table.tableArn] });
  }
}
