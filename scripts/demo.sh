#!/usr/bin/env bash
# Walk a sample dossier through motcua with the CLI: init, deploy, start, worker, officer, leader.
set -euo pipefail
motcua="${MOTCUA_BIN:-motcua}"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Create or upgrade the database (${MOTCUA_DATABASE_URL:-SQLite in ${MOTCUA_VAR_DIR:-var}/})"
"$motcua" init
step "Deploy every procedure in processes/"
"$motcua" deploy processes/
"$motcua" definitions
step "A citizen submits an application (business key = dossier code)"
code="H00-$(date +%y%m%d)-$(printf '%04d' $((RANDOM % 10000)))"
instance=$("$motcua" start sample_residence --business-key "$code" \
  --data '{"citizen_id": "001099012345", "full_name": "Nguyễn Văn An", "purpose": "Bổ sung hồ sơ xin việc"}' \
  --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$motcua" show "$instance"
step "A worker looks the citizen up in the population registry (synthetic stand-in)"
"$motcua" worker --topics population-lookup --once
step "The one-stop desk's inbox"
"$motcua" tasks --group mot-cua
task=$("$motcua" tasks --instance "$instance" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
step "Officer can-bo-1 claims and reviews the dossier"
"$motcua" claim "$task" --user can-bo-1
"$motcua" complete "$task" --user can-bo-1 --data '{"review_decision": "accept", "review_note": "Hồ sơ đầy đủ"}' >/dev/null
echo "Task $task completed."
step "Leader lanh-dao-1 approves"
task=$("$motcua" tasks --group lanh-dao --instance "$instance" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
"$motcua" complete "$task" --user lanh-dao-1 --data '{"approved": true, "approval_note": "Đồng ý"}' >/dev/null
echo "Task $task completed."
step "The dossier's whole story"
"$motcua" show "$instance"
