#!/usr/bin/env bash
# Deploys the stack to the account and region of the current AWS credentials, bootstrapping the
# CDK first if this account/region has never been bootstrapped. Safe to run again: every step is
# idempotent. Extra arguments go to `cdk deploy` (for example `-c registrationPolicy=open`).
#   npm run deploy
#   npm run deploy -- -c alarmEmail=ops@example.com
#   SMOKE_TEST=1 npm run deploy        # also runs scripts/test-api.sh against the deployment
set -euo pipefail
cd "$(dirname "$0")/.."

STACK="${STACK_NAME:-McpOAuth}"
export CDK_DISABLE_VERSION_CHECK=true
cdk() { npx --no-install cdk "$@"; }

command -v aws >/dev/null || { echo "The AWS CLI is required (https://aws.amazon.com/cli/)." >&2; exit 1; }
ACCOUNT="$(aws sts get-caller-identity --query Account --output text)" || {
  echo "No working AWS credentials: run 'aws configure' or 'aws sso login' first." >&2
  exit 1
}
REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}"
[ -n "$REGION" ] || { echo "No region: set AWS_REGION (for example AWS_REGION=eu-west-1)." >&2; exit 1; }
export AWS_REGION="$REGION" CDK_DEFAULT_ACCOUNT="$ACCOUNT" CDK_DEFAULT_REGION="$REGION"
echo "Deploying stack $STACK to account $ACCOUNT in $REGION"

if aws cloudformation describe-stacks --stack-name CDKToolkit --region "$REGION" >/dev/null 2>&1; then
  echo "CDK already bootstrapped in $ACCOUNT/$REGION"
else
  echo "Bootstrapping the CDK in $ACCOUNT/$REGION (once per account and region)"
  cdk bootstrap "aws://$ACCOUNT/$REGION"
fi

OUTPUTS="$(mktemp)"
trap 'rm -f "$OUTPUTS"' EXIT
cdk deploy "$STACK" -c stackName="$STACK" --require-approval never --outputs-file "$OUTPUTS" "$@"

output() { node -e "const o = require('$OUTPUTS')['$STACK'] ?? {}; process.stdout.write(o['$1'] ?? '')"; }
ISSUER="$(output Issuer)"
MCP_URL="$(output McpUrl)"
TOKEN_SECRET="$(output InitialAccessTokenSecretArn)"
DOMAIN_TARGET="$(output CustomDomainTarget)"

echo
echo "MCP URL:              $MCP_URL"
echo "Issuer:               $ISSUER"
echo "Registration:         $(output RegistrationEndpoint)"
echo "Alarm topic:          $(output AlarmTopicArn)"
[ -n "$DOMAIN_TARGET" ] && echo "DNS: point a CNAME for ${ISSUER#https://} at $DOMAIN_TARGET"

# The first signing key is created by a rotation that starts when the stack is created; until it
# completes (seconds) the functions answer 503. Wait for it rather than hand out a broken URL.
echo
code=skipped
[ -n "$DOMAIN_TARGET" ] && echo "(Not waiting for the first signing key: the custom domain needs its DNS record first.)"
[ -z "$DOMAIN_TARGET" ] && echo -n "Waiting for the first signing key"
for _ in $( [ -z "$DOMAIN_TARGET" ] && seq 1 30 ); do
  code="$(curl -s -o /dev/null -w '%{http_code}' "$ISSUER/.well-known/jwks.json" || true)"
  [ "$code" = 200 ] && break
  echo -n "."
  sleep 4
done
if [ -z "$DOMAIN_TARGET" ]; then
  echo " JWKS answers HTTP $code"
  [ "$code" = 200 ] || echo "Not yet: check the rotate-keys function's log group, and see doc/operations.md." >&2
fi

# The mcp function reads only the public keys each rotation publishes to an SSM parameter. When
# that parameter is new on a stack whose keys already existed (an upgrade), or CloudFormation
# wrote its placeholder back (its properties changed), it stays empty until the next rotation,
# while the JWKS has keys: rotate once now rather than leave /mcp answering 503.
PUBLIC_KEYS="$(output PublicSigningKeysParameter)"
if [ "$code" = 200 ] && [ -n "$PUBLIC_KEYS" ]; then
  published() {
    aws ssm get-parameter --name "$PUBLIC_KEYS" --region "$REGION" --query Parameter.Value --output text || true
  }
  if [ "$(published)" = '{"keys":[]}' ]; then
    echo -n "The public key parameter is empty although the JWKS has keys; rotating once to publish them"
    aws secretsmanager rotate-secret --secret-id "$(output SigningKeysSecretArn)" --region "$REGION" >/dev/null \
      || echo " (rotate-secret failed; see doc/operations.md)" >&2
    for _ in $(seq 1 30); do
      [ "$(published)" != '{"keys":[]}' ] && break
      echo -n "."
      sleep 4
    done
    [ "$(published)" != '{"keys":[]}' ] && echo " published" \
      || echo " not yet: check the rotate-keys function's log group, and see doc/operations.md." >&2
  fi
fi

TOKEN_LINE=""
if [ -n "$TOKEN_SECRET" ]; then
  INITIAL_ACCESS_TOKEN="$(aws secretsmanager get-secret-value --secret-id "$TOKEN_SECRET" --region "$REGION" \
    --query SecretString --output text)"
  export INITIAL_ACCESS_TOKEN
  TOKEN_LINE="-H \"Authorization: Bearer \$INITIAL_ACCESS_TOKEN\" "
  echo
  echo "Registration needs the initial access token (policy \"token\"). Read it with:"
  echo "  export INITIAL_ACCESS_TOKEN=\$(aws secretsmanager get-secret-value --secret-id $TOKEN_SECRET --region $REGION --query SecretString --output text)"
fi

CREATE_USER="$(output CreateFirstUser)"
if [ -n "$CREATE_USER" ]; then
  cat <<USERS

Users log in at the Cognito user pool ($(output CognitoLoginUrl)).
Create the first one (Cognito emails a temporary password; the first login sets an authenticator app):
  $CREATE_USER
Then add $MCP_URL to Claude, Cursor, VS Code or Claude Code (claude mcp add --transport http my-mcp $MCP_URL).
USERS
fi

cat <<NEXT

Machine clients: register one, get a token and call a tool.
  curl -s $ISSUER/register -H 'Content-Type: application/json' ${TOKEN_LINE}\\
    -d '{"client_name":"my-agent","grant_types":["client_credentials"]}'
  # note client_id and client_secret from the answer, then:
  curl -s $ISSUER/token -u "\$CLIENT_ID:\$CLIENT_SECRET" -d grant_type=client_credentials
  curl -s $MCP_URL -H "Authorization: Bearer \$ACCESS_TOKEN" \\
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}'
Or check everything at once:  scripts/test-api.sh $ISSUER
Client setup (Claude Code, Cursor, VS Code, MCP Inspector, AgentCore): doc/clients.md
NEXT

if [ "${SMOKE_TEST:-}" = 1 ]; then
  bash scripts/test-api.sh "$ISSUER"
fi
