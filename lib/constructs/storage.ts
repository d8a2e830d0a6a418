/**
 * The one DynamoDB table of the design (`doc/architecture.md`): clients now; pending
 * authorizations, codes and refresh tokens later. Its key schema comes from
 * `lambda/shared/table.ts`, which the local server uses too.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { REVOCATION_KEY_PREFIX } from '../../lambda/shared/revocations.js';
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
  }

  /**
   * Lets a function read the revocation list (`lambda/shared/revocations.ts`) and nothing else of
   * the table: `BatchGetItem` on keys that start with its prefix.
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
