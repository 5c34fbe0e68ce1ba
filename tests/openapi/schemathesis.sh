#!/usr/bin/env bash
# Property-based contract test (Schemathesis 4.x) of Ensemble's /api/v1 against its own OpenAPI
# document (BASE_URL/api/v1/openapi.json), with bearer tokens from the demo's accounts.
#
# Usage: tests/openapi/schemathesis.sh BASE_URL DATABASE ACCOUNTS_FILE
#   BASE_URL       the server's origin, e.g. http://127.0.0.1:8080
#   DATABASE       the database the server runs on (tokens are made in it with
#                  `ensemble user token create`, each for one day, audited)
#   ACCOUNTS_FILE  the demo's --accounts-file (an email per role)
#
# What it does:
#   1. makes a least-privilege token per demo role that can use some operations, with only
#      the scopes those operations need (`ensemble user token create`);
#   2. sends one referral through POST /api/v1/fhir/ServiceRequest as the link worker, and pins
#      its id and its person's id as the `id` of the operations that read a referral or a
#      person, so they are tested beyond 404s;
#   3. runs `st run` once per role on that role's operations (include-path-regex), every check
#      except `positive_data_acceptance`: a body that fits the schema can still break Ensemble's
#      own rules (an unknown person or instrument, a FHIR element breaking the R4 JSON Schema's
#      patterns, a referral without a patient's name), and a 4xx naming the problem is then
#      the right answer. Missing auth (an operation answering only 401/403) and unresolvable
#      references fail the run; missing test data is only a warning (the pinned ids do not
#      reach every phase).
#
# Environment:
#   ENSEMBLE_BIN          the ensemble binary (default <repo>/target/debug/ensemble)
#   ORUK_VENV             virtualenv with schemathesis (default <repo>/target/oruk-venv, made
#                         from tests/oruk/requirements.txt when missing or changed)
#   API_ST_EXAMPLES       max examples per operation and phase (default 20)
#   API_ST_SEED           Hypothesis seed (default 20261207)
#   API_ST_MAX_TIME       hard limit in seconds per role's run (default 300): it only catches a
#                         hung run; the four runs take about two minutes together against a
#                         debug build on a loaded 2-core machine. The time each took is printed.
#   API_ST_EXTRA_EXCLUDE  more checks to skip, comma-separated
#   API_ST_OUT            where Schemathesis writes (default <repo>/target/schemathesis/api-v1;
#                         emptied first). Nothing is written in the work tree.
#
# Exit status: non-zero when any role's run fails (the first failing status), 2 on a setup error.
set -euo pipefail

die() {
    printf 'schemathesis.sh: error: %s\n' "$*" >&2
    exit 2
}

[[ $# -eq 3 && -n "$1" && "$1" != -* ]] || {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
BASE="${1%/}"
DATABASE="$2"
ACCOUNTS="$3"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$HERE/../.." && pwd -P)"
BIN="${ENSEMBLE_BIN:-$REPO/target/debug/ensemble}"
[[ -x "$BIN" ]] || die "ensemble binary not found: $BIN (set ENSEMBLE_BIN)"
[[ -s "$ACCOUNTS" ]] || die "accounts file not found or empty: $ACCOUNTS"

# ------------------------------------------------------------------ virtualenv (pip only)
VENV="${ORUK_VENV:-$REPO/target/oruk-venv}"
REQ="$REPO/tests/oruk/requirements.txt"
REQ_SUM="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/st" || "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$REQ_SUM" ]]; then
    echo "schemathesis.sh: preparing $VENV from $REQ"
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
    echo "$REQ_SUM" >"$VENV/.requirements.sha256"
fi
PY="$VENV/bin/python"
ST="$VENV/bin/st"

OUT="${API_ST_OUT:-$REPO/target/schemathesis/api-v1}"
rm -rf "$OUT"
mkdir -p "$OUT"
chmod 700 "$OUT"

EXAMPLES="${API_ST_EXAMPLES:-20}"
MAX_TIME="${API_ST_MAX_TIME:-300}"
[[ "$EXAMPLES" =~ ^[1-9][0-9]*$ ]] || die "API_ST_EXAMPLES must be a positive whole number"
[[ "$MAX_TIME" =~ ^[1-9][0-9]*$ ]] || die "API_ST_MAX_TIME must be a positive whole number of seconds"
EXCLUDE="positive_data_acceptance${API_ST_EXTRA_EXCLUDE:+,$API_ST_EXTRA_EXCLUDE}"

email_of() {
    "$PY" -c 'import json, sys
accounts = json.load(open(sys.argv[1], encoding="utf-8"))
found = [a["email"] for a in accounts if a.get("role") == sys.argv[2]]
if not found:
    sys.exit(f"no {sys.argv[2]} in {sys.argv[1]}")
print(found[0])' "$ACCOUNTS" "$1"
}

token_for() { # ROLE SCOPE...
    local role="$1" args=()
    shift
    for s in "$@"; do args+=(--scope "$s"); done
    "$BIN" user token create --database "$DATABASE" --email "$(email_of "$role")" \
        --name "schemathesis $(date -u +%Y-%m-%dT%H:%M:%SZ)" --expires-in-days 1 "${args[@]}" 2>/dev/null \
        || die "could not make a token for the $role (ensemble user token create)"
}

# ------------------------------------------------------------------ test data
LW_TOKEN="$(token_for link_worker account:read organisations:read referrals:read referrals:write measures:read measures:write)"
REFS="$(ENSEMBLE_API_TOKEN="$LW_TOKEN" "$PY" - "$BASE" <<'PYEOF'
import json, os, sys, time, urllib.request

base = sys.argv[1]
body = {
    "resourceType": "ServiceRequest",
    "identifier": [{"system": "urn:ensemble:schemathesis", "value": f"run-{time.time_ns()}"}],
    "status": "active",
    "intent": "order",
    "subject": {"reference": "#p"},
    "contained": [{"resourceType": "Patient", "id": "p", "name": [{"given": ["Sam"], "family": "Schemathesis"}]}],
}
req = urllib.request.Request(
    f"{base}/api/v1/fhir/ServiceRequest",
    data=json.dumps(body).encode(),
    method="POST",
    headers={"Content-Type": "application/fhir+json", "Authorization": f"Bearer {os.environ['ENSEMBLE_API_TOKEN']}"},
)
with urllib.request.urlopen(req, timeout=60) as r:
    sr = json.load(r)
# The subject is named by identifier (the person's id under the installation's
# .../fhir/identifier/person system), never by a reference outside the resource.
subject = sr["subject"]
person = subject["identifier"]["value"] if "identifier" in subject else subject["reference"].removeprefix("Patient/")
print(sr["id"], person)
PYEOF
)" || die "could not send the test referral to $BASE/api/v1/fhir/ServiceRequest"
read -r REFERRAL PERSON <<<"$REFS"
echo "schemathesis.sh: test referral $REFERRAL (person $PERSON)"

# ------------------------------------------------------------------ runs
write_config() { # FILE
    cat >"$1" <<EOF
# generated by tests/openapi/schemathesis.sh for $BASE
headers = { Authorization = "Bearer \${ENSEMBLE_API_TOKEN}" }

[warnings]
fail-on = ["missing_auth", "unresolvable_reference", "unmatched_filter"]

[[operations]]
include-path = "/api/v1/fhir/ServiceRequest/{id}"
parameters = { "path.id" = "$REFERRAL" }

[[operations]]
include-path = "/api/v1/referrals/{id}/message-back"
parameters = { "path.id" = "$REFERRAL" }

[[operations]]
include-path = "/api/v1/people/{id}/scores"
parameters = { "path.id" = "$PERSON" }

[[operations]]
include-path = "/api/v1/measures/responses"
parameters = { "body.person_id" = "$PERSON", "body.referral_id" = "$REFERRAL" }
EOF
}

status=0
run_as() { # NAME TOKEN PATH_REGEX [MORE_EXCLUDED_CHECKS]
    local name="$1" token="$2" regex="$3" exclude="$EXCLUDE${4:+,$4}" dir="$OUT/$1" rc started
    mkdir -p "$dir"
    write_config "$dir/schemathesis.toml"
    echo "schemathesis.sh: $name on ${regex}"
    started=$SECONDS
    set +e
    (cd "$dir" && ENSEMBLE_API_TOKEN="$token" timeout --signal=INT --kill-after=15 "$MAX_TIME" \
        "$ST" --config-file "$dir/schemathesis.toml" run "$BASE/api/v1/openapi.json" \
        --url "$BASE" \
        --include-path-regex "$regex" \
        --mode all \
        --phases examples,coverage,fuzzing,stateful \
        --checks all \
        --exclude-checks "$exclude" \
        --max-examples "$EXAMPLES" \
        --seed "${API_ST_SEED:-20261207}" \
        --workers 1 \
        --request-timeout 60 \
        --generation-database none \
        --suppress-health-check too_slow \
        --continue-on-failure \
        --no-color \
        --report junit --report-dir "$dir/report")
    rc=$?
    set -e
    echo "schemathesis.sh: $name took $((SECONDS - started)) s, exit status $rc"
    if [[ $rc -ne 0 && $status -eq 0 ]]; then
        status=$rc
    fi
}

echo "schemathesis.sh: $("$ST" --version) against $BASE/api/v1 (skipping checks: $EXCLUDE)"
run_as link_worker "$LW_TOKEN" '^/api/v1/(me|instruments|measures/|people/)'
run_as link_worker_fhir "$LW_TOKEN" '^/api/v1/(fhir/|referrals/)'
run_as administrator "$(token_for administrator organisations:read organisations:write users:read)" \
    '^/api/v1/(users|organisations)$'
run_as researcher "$(token_for researcher evaluation:read)" '^/api/v1/evaluation/'
run_as practitioner "$(token_for practitioner practice:read)" '^/api/v1/practice/'
exit "$status"
