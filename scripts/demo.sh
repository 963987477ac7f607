#!/usr/bin/env bash
# Walk a sample dossier through motcua with the CLI: init, deploy, start, worker, officer, leader.
set -euo pipefail
motcua="${MOTCUA_BIN:-motcua}"
export MOTCUA_VNEID_STANDIN="${MOTCUA_VNEID_STANDIN:-1}"  # the demo's citizens sign in through the VNeID stand-in
export MOTCUA_VNPAY_STANDIN="${MOTCUA_VNPAY_STANDIN:-1}"  # and pay their fees on the VNPay stand-in
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

step "The procedure library: birth registration's scenario tests (processes/birth-registration/scenarios)"
"$motcua" test-process processes/birth-registration --require-coverage

step "Agencies, groups and accounts: a commune (000.00.00.H56) and the provincial police (000.00.16.H56), each with a desk officer, a specialist and a leader; an administrator; service account demo-worker"
"$motcua" agencies add 000.00.00.H56 "Ủy ban nhân dân xã (demo)" >/dev/null 2>&1 || true
"$motcua" agencies add 000.00.16.H56 "Công an tỉnh (demo)" >/dev/null 2>&1 || true
"$motcua" agencies add 000.00.00.H00 "Công an xã mẫu (demo)" >/dev/null 2>&1 || true
"$motcua" groups add mot-cua "Bộ phận Một cửa" >/dev/null 2>&1 || true
"$motcua" groups add chuyen-vien "Chuyên viên xử lý" >/dev/null 2>&1 || true
"$motcua" groups add lanh-dao "Lãnh đạo" >/dev/null 2>&1 || true
"$motcua" groups add analyst "Phân tích quy trình (bảng điều hành)" >/dev/null 2>&1 || true
"$motcua" groups add manager "Quản lý (chỉ số Quyết định 766)" >/dev/null 2>&1 || true
add_person() {  # NAME GROUPS AGENCY (the password is the name: demo only)
  echo "$1" | "$motcua" users add "$1" --password-stdin --groups "$2" --agency "$3" >/dev/null 2>&1 || true
}
add_person can-bo-1 mot-cua 000.00.00.H56
add_person chuyen-vien-1 chuyen-vien 000.00.00.H56
add_person lanh-dao-1 lanh-dao 000.00.00.H56
add_person can-bo-ca-1 mot-cua 000.00.16.H56
add_person chuyen-vien-ca-1 chuyen-vien 000.00.16.H56
add_person lanh-dao-ca-1 lanh-dao 000.00.16.H56
echo "quan-tri" | "$motcua" users add quan-tri --password-stdin --groups admin >/dev/null 2>&1 || true
echo "phan-tich-1" | "$motcua" users add phan-tich-1 --password-stdin --groups analyst >/dev/null 2>&1 || true
echo "quan-ly-1" | "$motcua" users add quan-ly-1 --password-stdin --groups manager >/dev/null 2>&1 || true
"$motcua" users list
token=$("$motcua" users token demo-worker --json 2>/dev/null || "$motcua" users add demo-worker --service --json)
token=$(printf '%s' "$token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
echo "Passwords are the user names (demo only). demo-worker's bearer token: $token"

if [ "${MOTCUA_DEMO_SERVE:-1}" = "1" ]; then
  port="${MOTCUA_PORT:-5000}"
  # links the server builds (payment return, the stand-ins' redirects) must point at this port
  export MOTCUA_PUBLIC_URL="${MOTCUA_PUBLIC_URL:-http://127.0.0.1:$port}"
  step "Serving http://127.0.0.1:$port — the citizen portal at /, the REST API at /engine-rest, with a worker; Ctrl-C stops"
  citizen=$("$(dirname "$motcua")/python" -c 'from workers.registry import SyntheticRegistry; print(SyntheticRegistry(3000, 2026).numbers()[0])')
  echo "Portal: http://127.0.0.1:$port/thu-tuc — sign in through the VNeID stand-in as citizen $citizen, password demo"
  echo "Inbox:  http://127.0.0.1:$port/can-bo — commune officers can-bo-1, chuyen-vien-1, lanh-dao-1; police"
  echo "        can-bo-ca-1, chuyen-vien-ca-1, lanh-dao-ca-1 (password = name)"
  echo "Admin:  http://127.0.0.1:$port/quan-tri — quan-tri (password quan-tri): accounts, agencies, groups"
  echo "Console: http://127.0.0.1:$port/dieu-hanh — analyst phan-tich-1, manager quan-ly-1 (password = name)"
  echo "Try: curl -H 'Authorization: Bearer $token' http://127.0.0.1:$port/engine-rest/process-instance"
  "$motcua" worker --concurrency 2 &
  worker_pid=$!
  trap 'kill -TERM $worker_pid 2>/dev/null; wait $worker_pid 2>/dev/null' EXIT
  "$motcua" serve --port "$port"
fi
