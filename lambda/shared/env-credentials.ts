/**
 * The AWS SDK's credential chain, as the oauth bundle has it: the credentials Lambda puts in the
 * function's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which is
 * the first source the SDK's default chain (`@aws-sdk/credential-provider-node`) tries and the one
 * it finds in Lambda. In the oauth bundle that package resolves to this module (`BUNDLE_ALIASES`
 * in `lib/bundling.ts`): the rest of the chain (SSO, profiles, process, STS web identity, the
 * instance metadata service, and the nested SSO, STS and sign-in clients) is about 100 KB of the
 * bundle that Lambda never runs, compiled at every cold start (doc/performance.md).
 */
import type { AwsCredentialIdentity } from '@smithy/types';

/** Thrown (and retried by nothing) when the environment has no credentials: not a Lambda runtime. */
export class MissingEnvironmentCredentialsError extends Error {
  readonly tryNextLink = false;
}

/** What `@aws-sdk/credential-provider-node`'s `defaultProvider` returns, from the environment only. */
export function defaultProvider(): () => Promise<AwsCredentialIdentity> {
  return async () => {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION } =
      process.env;
    if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
      throw new MissingEnvironmentCredentialsError(
        'no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
      );
    }
    return {
      accessKeyId: AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET_ACCESS_KEY,
      ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
      ...(AWS_CREDENTIAL_EXPIRATION ? { expiration: new Date(AWS_CREDENTIAL_EXPIRATION) } : {}),
    };
  };
}
