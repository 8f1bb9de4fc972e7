# SPDX-License-Identifier: MIT
# e2e cases for the hostile-callers defences that need a real engine,
# sourced by cases.bash (same D, E, SHIM, APP, helpers).

# A container cannot borrow another container's identity: started with
# --cgroup-parent of a running victim (and, on podman, the victim's pid
# namespace), it sits in a cgroup nested below the victim's. The outermost
# container cgroup names the victim, but the caller's cgroup is not the
# victim init's: refused, and the audit says why.
case_borrow() {
	local vid parent out rc
	le_run "$E" "$D" -d --name e2e-pay-victim --label app=payments "$LE_IMAGE" \
		$SHIM --user 1000 --watch -- $APP watch - pay_db >/dev/null 2>&1
	vid=$(le_cid "$E" "$D" e2e-pay-victim)
	if [ -z "$vid" ]; then
		t_notok "[$E] victim container starts"
		return
	fi
	if [ "$E" = podman ]; then
		parent=/libpod_parent/libpod-$vid
		out=$(le_run "$E" "$D" --rm --name e2e-borrower --cgroup-parent="$parent" \
			--pid "container:$vid" "$LE_IMAGE" $SHIM --user 1000 --secret pay/db \
			-- $APP show pay_db 2>&1); rc=$?
	else
		parent=/docker/$vid
		out=$(le_run "$E" "$D" --rm --name e2e-borrower --cgroup-parent="$parent" \
			"$LE_IMAGE" $SHIM --user 1000 --secret pay/db -- $APP show pay_db 2>&1); rc=$?
	fi
	sed 's/^/# borrower: /' <<<"$out" | head -3
	t_fails "[$E] a container under --cgroup-parent of another gets none of its secrets" \
		grep -q "pay_db sha256=$(sha "$PAY_DB")" <<<"$out"
	t_run "[$E] the borrower is refused (exit $rc)" test "$rc" -ne 0
	t_run "[$E] the audit names the nested cgroup" \
		grep -q "cgroup nested below container ${vid:0:12}" "$D/audit.log"
	t_eq "[$E] the audit holds one release of pay/db under the victim's id: its own" \
		"$(grep -F "\"container_id\":\"$vid\"" "$D/audit.log" | grep -F '"secret":"pay/db"' |
			grep -cF '"decision":"release"')" 1
	out=$(le_cli "$E" "$D" logs e2e-pay-victim 2>&1 | head -2)
	t_run "[$E] the victim itself still got its secret" \
		grep -q "pay_db sha256=$(sha "$PAY_DB")" <<<"$out"
	le_cli "$E" "$D" rm -f e2e-pay-victim >/dev/null 2>&1
}
