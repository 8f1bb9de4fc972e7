#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy/kubernetes, validated offline (no API server here):
# tests/tools/check_manifests.py checks every field against the API
# reference's names and types and what keyholed needs (hostPID, mounts
# where the flags point, liveness probe, RBAC, the `make image` tag, a
# non-root pod with a Memory emptyDir); the ConfigMap's policy passes
# `keyhole policy check`; kubectl (when installed) parses every object
# (`kubectl label --local`: --dry-run=client needs a server for discovery).
# The checker is shown to fail on broken copies (typo, wrong tag, disk emptyDir).
. "$(dirname "$0")/../lib.sh"
CHK=$KH_ROOT/tests/tools/check_manifests.py
python3 -c 'import yaml' 2>/dev/null || t_skip "python3 with yaml not installed (scripts/deps.sh)"
[ -x "$KH_BUILD/keyhole" ] || t_skip "keyhole not built"
VERSION=$(cat "$KH_ROOT/VERSION" 2>/dev/null)
[ -n "$VERSION" ] || { t_notok "no VERSION file"; t_done; }
T=$(t_tmpdir)
M=("$KH_ROOT"/deploy/kubernetes/*.yaml)

python3 "$CHK" "$VERSION" "$T/policy.json" "${M[@]}"
[ $? -eq 0 ] || T_FAILS=$((T_FAILS + 1))
t_run "the DaemonSet's policy validates (keyhole policy check)" \
	"$KH_BUILD/keyhole" policy check "$T/policy.json"

if command -v kubectl >/dev/null; then
	for f in "${M[@]}"; do
		want=$(python3 -c 'import sys,yaml; print(sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d))' "$f")
		got=$(timeout 60 kubectl label --local -f "$f" keyhole-check=1 -o name 2>"$T/kubectl.err" | wc -l)
		t_eq "kubectl parses $(basename "$f") ($want objects)" "$got" "$want"
	done
else
	echo "ok # skip kubectl not installed"
fi

# The checker can fail: broken copies of the manifests.
broken() { # DESC SED-EXPR
	mkdir -p "$T/b"
	rm -f "$T/b"/*.yaml
	cp "${M[@]}" "$T/b/"
	sed -i "$2" "$T/b"/*.yaml
	if python3 "$CHK" "$VERSION" "$T/b.json" "$T/b"/*.yaml >"$T/b.out" 2>&1; then
		t_notok "checker misses: $1"
	else
		t_ok "checker catches: $1 ($(grep -m1 '^not ok' "$T/b.out" | cut -c10-90))"
	fi
}
broken "a misspelt field (hostPId)" 's/hostPID: true/hostPId: true/'
broken "an image tag make image does not build" "s|keyhole/keyholed:$VERSION|keyhole/keyholed:latest|"
broken "an emptyDir on disk" 's/emptyDir: { medium: Memory, sizeLimit: 1Mi }$/emptyDir: {}/'
broken "a liveness probe on another socket" 's|"--admin-socket", "/run/keyhole-admin/admin.sock"|"--admin-socket", "/tmp/x.sock"|'
broken "a string where a boolean goes" 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: "true"/'
t_done
