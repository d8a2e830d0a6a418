#!/usr/bin/env bash
# Deploys the stack, bootstrapping the CDK first if the account/region has never been
# bootstrapped. Shows `cdk diff` first, and asks for the stack name to be typed before any change
# that would replace or remove a stateful resource (the table, a secret, the user pool, the
# public key parameter; scripts/stateful-changes.ts). Safe to run again: every step is idempotent.
#   npm run deploy                                   # the credentials' account and region, stack McpOAuth
#   npm run deploy -- --stage prod                   # stages/prod.json: its account, region, stack, settings
#   npm run deploy -- -c alarmEmail=ops@example.com  # other arguments go to cdk (context, flags)
#   npm run deploy -- -c stackName=foo               # a second stack in the same account
#   SMOKE_TEST=1 npm run deploy                      # also runs scripts/test-api.sh against the deployment
#   CONFIRM_STATEFUL_CHANGES=<stack name> npm run deploy ...   # the typed confirmation, for CI
#   npm run deploy -- --help                         # this text; calls nothing
# `--require-approval never` only for the dev stage; other stages keep cdk's default (it asks
# before widening IAM permissions or security groups). Plain `npx cdk deploy` deploys the same
# template but none of the above around it: no stateful-change guard, no wait for the first
# signing key, no publishing of the public keys, no canary client.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  # The comment block above, without its first line and its leading '# '.
  sed -n '2,/^set -euo pipefail$/p' scripts/deploy.sh | sed -e '$d' -e 's/^# \{0,1\}//'
}

export CDK_DISABLE_VERSION_CHECK=true
cdk() { npx --no-install cdk "$@"; }

# --stage <name> is ours; everything else goes to cdk. Context arguments also go to `cdk diff`.
STAGE_FILE=""
ARGS=()
CONTEXT=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --stage) STAGE_FILE="${2:?--stage needs a name (a file stages/<name>.json)}"; shift 2 ;;
    --stage=*) STAGE_FILE="${1#--stage=}"; shift ;;
    -c | --context) ARGS+=("$1" "${2:?$1 needs key=value}"); CONTEXT+=("$1" "$2"); shift 2 ;;
    --context=*) ARGS+=("$1"); CONTEXT+=("$1"); shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
# The value of a -c key=value argument, if given.
context_value() {
  local key="$1" arg value=""
  for arg in ${CONTEXT[@]+"${CONTEXT[@]}"}; do
    case "$arg" in
      "$key="*) value="${arg#"$key="}" ;;
      --context="$key="*) value="${arg#--context="$key="}" ;;
    esac
  done
  echo "$value"
}

command -v aws >/dev/null || { echo "The AWS CLI is required (https://aws.amazon.com/cli/)." >&2; exit 1; }
ACCOUNT="$(aws sts get-caller-identity --query Account --output text)" || {
  echo "No working AWS credentials: run 'aws configure' or 'aws sso login' first." >&2
  exit 1
}

if [ -n "$STAGE_FILE" ]; then
  # Fails with the settings error when the file is missing or invalid.
  STAGE_INFO="$(npx --no-install tsx scripts/stage-info.ts "$STAGE_FILE")" || exit 1
  eval "$STAGE_INFO"
  [ "$ACCOUNT" = "$STAGE_ACCOUNT" ] || {
    echo "stages/$STAGE_FILE.json deploys to account $STAGE_ACCOUNT, but these credentials are for $ACCOUNT." >&2
    exit 1
  }
  REGION="$STAGE_REGION"
  STACK="$STAGE_STACK"
  STAGE="$STAGE_NAME"
  ARGS=(-c "stageConfig=$STAGE_FILE" ${ARGS[@]+"${ARGS[@]}"})
  CONTEXT=(-c "stageConfig=$STAGE_FILE" ${CONTEXT[@]+"${CONTEXT[@]}"})
else
  REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}"
  [ -n "$REGION" ] || { echo "No region: set AWS_REGION (for example AWS_REGION=eu-west-1)." >&2; exit 1; }
  STACK="$(context_value stackName)"
  if [ -z "$STACK" ]; then
    STACK="${STACK_NAME:-McpOAuth}"
    ARGS=(-c "stackName=$STACK" ${ARGS[@]+"${ARGS[@]}"})
    CONTEXT=(-c "stackName=$STACK" ${CONTEXT[@]+"${CONTEXT[@]}"})
  fi
  STAGE="$(context_value stage)"
  STAGE="${STAGE:-dev}"
fi
export AWS_REGION="$REGION" CDK_DEFAULT_ACCOUNT="$ACCOUNT" CDK_DEFAULT_REGION="$REGION"
echo "Deploying stack $STACK (stage $STAGE) to account $ACCOUNT in $REGION"

if aws cloudformation describe-stacks --stack-name CDKToolkit --region "$REGION" >/dev/null 2>&1; then
  echo "CDK already bootstrapped in $ACCOUNT/$REGION"
else
  echo "Bootstrapping the CDK in $ACCOUNT/$REGION (once per account and region)"
  cdk bootstrap "aws://$ACCOUNT/$REGION"
fi

OUTPUTS="$(mktemp)"
DIFF="$(mktemp)"
trap 'rm -f "$OUTPUTS" "$DIFF"' EXIT

# What the deployment would change; a replaced or removed table, secret, user pool or public key
# parameter loses registered clients, keys (every token) or users, so it needs a typed yes.
cdk diff "$STACK" "${CONTEXT[@]}" 2>&1 | tee "$DIFF" || true
if ! CHANGES="$(npx --no-install tsx scripts/stateful-changes.ts <"$DIFF")"; then
  [ -n "$CHANGES" ] || { echo "Could not read the diff (see above)." >&2; exit 1; }
  cat >&2 <<WARN

This deployment would replace or remove stateful resources of $STACK:
$CHANGES
A replaced table starts empty (registered clients and grants are lost), new signing keys make
every issued token fail, a new user pool has no users. See doc/operations.md, "Stages, tags and
what must never be replaced". To go ahead, type the stack name ($STACK):
WARN
  if [ -n "${CONFIRM_STATEFUL_CHANGES:-}" ]; then
    ANSWER="$CONFIRM_STATEFUL_CHANGES"
  elif [ -t 0 ]; then
    read -r ANSWER
  else
    ANSWER=""
  fi
  [ "$ANSWER" = "$STACK" ] || { echo "Not confirmed; nothing deployed." >&2; exit 1; }
fi

APPROVAL=()
[ "$STAGE" = dev ] && APPROVAL=(--require-approval never)
# ${A[@]+"${A[@]}"}: an empty array under `set -u` in bash 3.2 (macOS).
cdk deploy "$STACK" ${APPROVAL[@]+"${APPROVAL[@]}"} --outputs-file "$OUTPUTS" "${ARGS[@]}"

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
[ -n "$DOMAIN_TARGET" ] &&
  echo "DNS: point an alias record (or a CNAME) for ${ISSUER#https://} at $DOMAIN_TARGET (hosted zone $(output CustomDomainHostedZoneId))"

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

# The mcp function reads the public keys each rotation publishes into the table (beside the
# revocation markers; an mcp function of the earlier layout reads the SSM parameter). On a stack
# whose keys already existed (an upgrade), or when CloudFormation wrote the parameter's
# placeholder back, they stay unpublished until the next rotation while the JWKS has keys: rotate
# once now, so /mcp reads keys and markers with one request from the start. The first such
# rotation also carries the earlier revocation list over to markers.
PUBLIC_KEYS="$(output PublicSigningKeysParameter)"
TABLE="$(output TableName)"
if [ "$code" = 200 ] && [ -n "$PUBLIC_KEYS" ] && [ -n "$TABLE" ]; then
  published() {
    local parameter item
    parameter="$(aws ssm get-parameter --name "$PUBLIC_KEYS" --region "$REGION" --query Parameter.Value --output text || true)"
    item="$(aws dynamodb get-item --table-name "$TABLE" --region "$REGION" --consistent-read \
      --key '{"pk":{"S":"published#public-keys"}}' --projection-expression pk --output text || true)"
    [ "$parameter" != '{"keys":[]}' ] && [ -n "$item" ]
  }
  if ! published; then
    echo -n "The public keys are not yet in the table or the parameter although the JWKS has keys; rotating once to publish them"
    aws secretsmanager rotate-secret --secret-id "$(output SigningKeysSecretArn)" --region "$REGION" >/dev/null \
      || echo " (rotate-secret failed; see doc/operations.md)" >&2
    for _ in $(seq 1 30); do
      published && break
      echo -n "."
      sleep 4
    done
    published && echo " published" \
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

# The canary's client: registered once, when its secret still holds only the `{}` it was created
# with (one version; reading the value is denied to everyone but the canary). Needs the initial
# access token with registration policy "token", nothing with "open"; "closed" allows none.
CANARY_SECRET="$(output CanaryClientSecretArn)"
if [ -n "$CANARY_SECRET" ] && [ "$code" = 200 ]; then
  versions="$(aws secretsmanager list-secret-version-ids --secret-id "$CANARY_SECRET" --region "$REGION" \
    --query 'length(Versions)' --output text || echo unknown)"
  if [ "$versions" = 1 ]; then
    echo
    echo "Registering the canary's client (once)"
    auth=()
    [ -n "${INITIAL_ACCESS_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $INITIAL_ACCESS_TOKEN")
    REGISTRATION="$(curl -sS -f "$ISSUER/register" -H 'Content-Type: application/json' ${auth[@]+"${auth[@]}"} \
      -d '{"client_name":"synthetic canary","grant_types":["client_credentials"]}')" || REGISTRATION=""
    if [ -n "$REGISTRATION" ]; then
      printf '%s' "$REGISTRATION" |
        node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(JSON.stringify({client_id: r.client_id, client_secret: r.client_secret}))' |
        aws secretsmanager put-secret-value --secret-id "$CANARY_SECRET" --region "$REGION" --secret-string file:///dev/stdin >/dev/null &&
        echo "The canary client is in $CANARY_SECRET; the canary's next run uses it."
    else
      echo "Registration failed (policy closed?); see \"Synthetic canary\" in doc/operations.md." >&2
    fi
  fi
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
