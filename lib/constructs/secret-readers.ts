/**
 * Who may read a secret's value, said twice: an identity-policy grant to each reader, and a
 * statement in the secret's resource policy that denies `GetSecretValue` to every other
 * principal, whatever its own policies allow (`AdministratorAccess`, `secretsmanager:*` on `*`,
 * a mistaken grant). Readers are added only through `grantRead`, so nothing can be granted a
 * read that the resource policy would deny, nor exempted without being granted.
 *
 * The exemption is by `aws:PrincipalArn`, which for a role's sessions is the role's ARN (IAM
 * global condition keys reference). The rotation function is invoked by Secrets Manager, but
 * reads with its own execution role, so it is exempted as a reader like any other function.
 */
import { Lazy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * The actions denied to everyone but the readers: the one that returns the value
 * (`BatchGetSecretValue` authorizes each secret as `GetSecretValue`). `DescribeSecret` and
 * `GetResourcePolicy` return metadata only, and CloudFormation needs them, with the deploying
 * role whose ARN the stack cannot know, to update and delete these very resources.
 */
export const DENIED_READ_ACTIONS = ['secretsmanager:GetSecretValue'];

export const DENY_READS_SID = 'DenyReadsExceptToTheStacksReaders';

export class SecretReaders {
  private readonly arns: string[] = [];

  /** `breakGlassRoleArn`: a role exempted from the deny without being granted anything here. */
  constructor(
    readonly secret: secretsmanager.ISecret,
    breakGlassRoleArn?: string,
  ) {
    if (breakGlassRoleArn) this.arns.push(breakGlassRoleArn);
    secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: DENY_READS_SID,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: DENIED_READ_ACTIONS,
        // In a secret's resource policy, "*" is the secret the policy is attached to.
        resources: ['*'],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => this.arns }) },
        },
      }),
    );
  }

  /** Lets the role read the value, and exempts it from the resource policy's deny. */
  grantRead(role: iam.IRole): iam.Grant {
    this.arns.push(role.roleArn);
    return iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secret.secretArn],
    });
  }
}
