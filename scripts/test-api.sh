#!/usr/bin/env bash
# Smoke test of a running deployment (or the local server): the README's curl walkthrough, checked.
#   scripts/test-api.sh http://localhost:3000
#   scripts/test-api.sh https://abc123.execute-api.eu-west-1.amazonaws.com
# Set INITIAL_ACCESS_TOKEN when the server's registration policy is "token".
# Registers two throwaway clients (a machine client, and a loopback one as VS Code registers) and
# deletes them at the end. Needs curl and node.
set -euo pipefail

BASE_URL="${1:-${BASE_URL:-http://localhost:3000}}"
BASE_URL="${BASE_URL%/}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
passed=0

fail() { echo "✗ $1" >&2; [ -f "$TMP/body" ] && head -c 2000 "$TMP/body" >&2 && echo >&2; exit 1; }
ok() { echo "✓ $1"; passed=$((passed + 1)); }

# request METHOD PATH [curl args...]: body to $TMP/body, headers to $TMP/headers, prints the status.
request() {
  local method="$1" path="$2"
  shift 2
  curl -sS -X "$method" "$BASE_URL$path" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@"
}
# field EXPRESSION: evaluates a JavaScript expression over the JSON body bound to `b`. An MCP
# answer sent as server-sent events (as the MCP SDK servers answer) is read from its last data
# line: the answer ends the stream, after any notifications.
field() { node -e "const t = require('fs').readFileSync('$TMP/body', 'utf8'); const d = t.match(/^data: ?.*$/gm); const b = JSON.parse(/^\s*[[{]/.test(t) || !d ? t : d[d.length - 1].replace(/^data: ?/, '')); const v = ($1); process.stdout.write(typeof v === 'string' ? v : JSON.stringify(v));"; }
header() { grep -i "^$1:" "$TMP/headers" | head -n1 | cut -d' ' -f2- | tr -d '\r' || true; }

MCP_HEADERS=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')

echo "Smoke-testing $BASE_URL"

status=$(request GET /.well-known/oauth-authorization-server)
[ "$status" = 200 ] || fail "authorization server metadata: HTTP $status"
[ "$(field b.issuer)" = "$BASE_URL" ] ||
  fail "issuer is $(field b.issuer), expected $BASE_URL (give this script the issuer exactly, for example $(field b.issuer); tokens are only valid for it)"
ok "authorization server metadata names the issuer $BASE_URL"

status=$(request GET /.well-known/oauth-protected-resource/mcp)
[ "$status" = 200 ] || fail "protected resource metadata: HTTP $status"
[ "$(field b.resource)" = "$BASE_URL/mcp" ] || fail "resource is $(field b.resource)"
ok "protected resource metadata names $BASE_URL/mcp"

status=$(request POST /mcp "${MCP_HEADERS[@]}" -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
[ "$status" = 401 ] || fail "/mcp without a token answered $status, expected 401"
header www-authenticate | grep -q 'resource_metadata=' || fail "401 has no resource_metadata in WWW-Authenticate"
ok "/mcp without a token answers 401 pointing at the resource metadata"

auth=()
[ -n "${INITIAL_ACCESS_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $INITIAL_ACCESS_TOKEN")
status=$(request POST /register -H 'Content-Type: application/json' "${auth[@]}" \
  -d '{"client_name":"smoke test","grant_types":["client_credentials"]}')
[ "$status" = 201 ] || fail "registration: HTTP $status"
CLIENT_ID=$(field b.client_id)
CLIENT_SECRET=$(field b.client_secret)
REGISTRATION_TOKEN=$(field b.registration_access_token)
ok "registered client $CLIENT_ID"

status=$(request POST /token -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials)
[ "$status" = 200 ] || fail "token: HTTP $status"
ACCESS_TOKEN=$(field b.access_token)
[ "$(field b.token_type)" = Bearer ] || fail "token_type is $(field b.token_type)"
ok "client_credentials token issued, scope \"$(field b.scope)\", expires in $(field b.expires_in)s"

AUTHZ=(-H "Authorization: Bearer $ACCESS_TOKEN")
status=$(request POST /mcp "${MCP_HEADERS[@]}" "${AUTHZ[@]}" \
  -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}')
[ "$status" = 200 ] || fail "initialize: HTTP $status"
[ -z "$(header mcp-session-id)" ] || fail "the server sent Mcp-Session-Id; it must be stateless"
ok "initialize: $(field b.result.serverInfo.name) speaks $(field b.result.protocolVersion)"

status=$(request POST /mcp "${MCP_HEADERS[@]}" "${AUTHZ[@]}" -H 'MCP-Protocol-Version: 2024-11-05' \
  -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}')
[ "$status" = 200 ] || fail "tools/list: HTTP $status"
[ "$(field "Array.isArray(b.result?.tools) && b.result.tools.length > 0")" = true ] ||
  fail "tools/list listed no tools"
ok "tools/list: $(field "b.result.tools.map(t => t.name).join(', ')")"

# The built-in example tool; a deployment serving its own MCP SDK server may not have it.
if [ "$(field "b.result.tools.some(t => t.name === 'add')")" = true ]; then
  status=$(request POST /mcp "${MCP_HEADERS[@]}" "${AUTHZ[@]}" -H 'MCP-Protocol-Version: 2024-11-05' \
    -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}')
  [ "$status" = 200 ] || fail "tools/call add: HTTP $status"
  [ "$(field b.result.structuredContent.sum)" = 5 ] || fail "add(2, 3) returned $(field b.result)"
  ok "tools/call add(2, 3) = 5"
else
  echo "- tools/call add skipped: the server lists no add tool"
fi

# A loopback client, as VS Code, Claude Code and mcp-remote register (doc/operations.md, "CloudFront
# and AWS WAF"): its URL with an IPv4 host rides in the registration body, /authorize's query and
# /token's body, which a WAF blocking URL inclusion in those places would answer 403.
LOOPBACK_REDIRECT="http://127.0.0.1:33418/callback"
blocked() { [ "$1" = 403 ] && echo " (a 403 not from this server: does a WAF block URLs with an IPv4 host?)"; true; }
status=$(request POST /register -H 'Content-Type: application/json' "${auth[@]}" \
  -d "{\"client_name\":\"smoke test loopback\",\"redirect_uris\":[\"$LOOPBACK_REDIRECT\"],\"token_endpoint_auth_method\":\"none\",\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],\"application_type\":\"native\"}")
LOOPBACK_ID=""
if [ "$status" = 403 ] && [ "$(field b.error 2>/dev/null || true)" = access_denied ]; then
  echo "- loopback client checks skipped: interactive registration is closed on this server"
else
  [ "$status" = 201 ] || fail "registration with the redirect URI $LOOPBACK_REDIRECT: HTTP $status$(blocked "$status")"
  LOOPBACK_ID=$(field b.client_id)
  LOOPBACK_TOKEN=$(field b.registration_access_token)
  ok "registered loopback client $LOOPBACK_ID ($LOOPBACK_REDIRECT)"

  # Another port, as a client gets when its usual one is busy: loopback matches on any port.
  AUTHORIZE_REDIRECT="http://127.0.0.1:54321/callback"
  status=$(request GET /authorize -G --data-urlencode response_type=code --data-urlencode "client_id=$LOOPBACK_ID" \
    --data-urlencode "redirect_uri=$AUTHORIZE_REDIRECT" --data-urlencode code_challenge_method=S256 \
    --data-urlencode code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM --data-urlencode state=smoke \
    --data-urlencode "resource=$BASE_URL/mcp")
  [ "$status" = 302 ] || fail "/authorize with $AUTHORIZE_REDIRECT: HTTP $status$(blocked "$status")"
  case "$(header location)" in
    "$AUTHORIZE_REDIRECT"*) fail "/authorize sent the browser back to the client: $(header location)" ;;
  esac
  ok "/authorize with $AUTHORIZE_REDIRECT sends the browser to log in"

  status=$(request POST /token --data-urlencode grant_type=authorization_code --data-urlencode code=not-a-code \
    --data-urlencode "redirect_uri=$AUTHORIZE_REDIRECT" --data-urlencode "client_id=$LOOPBACK_ID" \
    --data-urlencode code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk)
  [ "$status" = 400 ] && [ "$(field b.error)" = invalid_grant ] ||
    fail "/token with $AUTHORIZE_REDIRECT and an unknown code: HTTP $status, expected 400 invalid_grant$(blocked "$status")"
  ok "/token with a loopback redirect_uri reaches the server (invalid_grant for an unknown code)"
fi

status=$(request GET "/clients/$CLIENT_ID" -H "Authorization: Bearer $REGISTRATION_TOKEN")
[ "$status" = 200 ] || fail "client read: HTTP $status"
ok "client configuration endpoint reads the registration"

status=$(request DELETE "/clients/$CLIENT_ID" -H "Authorization: Bearer $REGISTRATION_TOKEN")
[ "$status" = 204 ] || fail "client delete: HTTP $status"
status=$(request POST /token -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials)
[ "$status" = 401 ] || fail "deleted client still got HTTP $status from /token"
ok "deleted the client; it can no longer get tokens"

if [ -n "$LOOPBACK_ID" ]; then
  status=$(request DELETE "/clients/$LOOPBACK_ID" -H "Authorization: Bearer $LOOPBACK_TOKEN")
  [ "$status" = 204 ] || fail "loopback client delete: HTTP $status"
fi

echo "$passed passed, 0 failed"
