/**
 * The key of the upstream refresh tokens the oauth function keeps for its re-checks
 * (`lambda/oauth/login/upstream-token-cipher.ts`): a Secrets Manager secret generated at
 * deployment, `{"current": "k1", "k1": "<64 random characters>"}`, readable by the oauth role
 * only (and the break-glass role): every other principal, including one that can read the table,
 * is denied its value by the resource policy (`SecretReaders`), so the encrypted tokens in the
 * table are of no use to it. Rotation adds a key and makes it current (doc/operations.md).
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SecretReaders } from './secret-readers.js';

export interface UpstreamTokenKeyProps {
  readonly breakGlassRoleArn?: string;
  /** The stack's `removalPolicy`: kept with the table it serves, or removed with a development stack. */
  readonly removalPolicy?: RemovalPolicy;
}

export class UpstreamTokenKey extends Construct {
  readonly secret: secretsmanager.Secret;
  private readonly readers: SecretReaders;

  constructor(scope: Construct, id: string, props: UpstreamTokenKeyProps = {}) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'Key of the upstream refresh tokens the oauth function keeps encrypted in the table (JSON key ring)',
      // 64 characters from 62 symbols: about 380 bits, from which HKDF derives the AES-256 key.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ current: 'k1' }),
        generateStringKey: 'k1',
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
      // Without it the kept upstream tokens cannot be read, and every grant ends at its next
      // re-check: kept whenever the table is.
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.readers = new SecretReaders(this.secret, props.breakGlassRoleArn);
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A key ring, rotated by adding a key and making it current while the old one stays for the tokens it ' +
        'encrypted (doc/operations.md); a Secrets Manager rotation would replace the value and lose the old key.',
    });
  }

  grantRead(role: iam.IRole): iam.Grant {
    return this.readers.grantRead(role);
  }
}
