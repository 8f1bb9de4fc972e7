#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packaging and the unit: deploy/keyholed.service is Type=notify, reads
# keyholed.conf, uses State/Configuration/LogsDirectory and scores <= 2.5 in
# `systemd-analyze security --offline=true` (where systemd-analyze exists);
# `make deb` builds a package lintian finds no error in, holding the
# binaries, man pages (citing the installed docs), unit, config, example
# policy, logrotate snippet, completion and docs; `make uninstall` removes
# what `make install` put in place and keeps the configuration.
. "$(dirname "$0")/../lib.sh"
for b in keyholed keyhole keyhole-shim; do [ -x "$KH_BUILD/$b" ] || t_skip "$b not built"; done
command -v dpkg-deb >/dev/null || t_skip "dpkg-deb missing (not Debian)"
D=$(t_tmpdir)
U=$KH_ROOT/deploy/keyholed.service

for k in Type=notify 'ExecStart=@SBINDIR@/keyholed --config /etc/keyhole/keyholed.conf' \
	StateDirectory=keyhole ConfigurationDirectory=keyhole LogsDirectory=keyhole \
	CapabilityBoundingSet= SystemCallFilter=@system-service ProtectClock=yes \
	ProtectKernelLogs=yes ProtectHostname=yes RestrictSUIDSGID=yes RestrictRealtime=yes; do
	t_run "unit: $k" grep -q "^$k" "$U"
done
t_run "drop-in for fleet mode adds AF_INET/AF_INET6" \
	grep -q '^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' "$KH_ROOT/deploy/keyholed.service.d/fleet.conf"
if command -v systemd-analyze >/dev/null; then
	sed 's|@SBINDIR@|/usr/sbin|; s|@DOCDIR@|/usr/share/doc/keyhole|' "$U" >"$D/keyholed.service"
	x=$(systemd-analyze security --offline=true "$D/keyholed.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for keyholed.service: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze exposure: ${x:-?}"
	t_run "systemd-analyze security: exposure ${x:-?} <= 2.5" \
		awk -v x="$x" 'BEGIN { exit !(x != "" && x + 0 <= 2.5) }'
else
	echo "ok - systemd-analyze exposure # skip: systemd-analyze not installed"
fi

# make install / uninstall into a staging root
I=$D/inst
t_run "make install DESTDIR" make -s -C "$KH_ROOT" install B="$KH_BUILD" DESTDIR="$I" PREFIX=/usr
t_run "man pages cite the installed docs path" \
	grep -q '/usr/share/doc/keyhole/docs/agent.md' "$I/usr/share/man/man8/keyholed.8"
t_fails "no @DOCDIR@ placeholder is left in installed man pages" grep -rq '@DOCDIR@' "$I/usr/share/man"
echo "# edited" >>"$I/etc/keyhole/keyholed.conf"
t_run "make install again keeps an edited keyholed.conf" \
	bash -c "make -s -C '$KH_ROOT' install B='$KH_BUILD' DESTDIR='$I' PREFIX=/usr && grep -q '^# edited' '$I/etc/keyhole/keyholed.conf'"
t_run "make uninstall" make -s -C "$KH_ROOT" uninstall B="$KH_BUILD" DESTDIR="$I" PREFIX=/usr
t_eq "uninstall leaves only keyholed.conf" "$(cd "$I" && find . -type f | sort | xargs)" \
	"./etc/keyhole/keyholed.conf"

# the .deb
deb=$(bash "$KH_ROOT/scripts/mkdeb.sh" "$KH_BUILD" "$D" 2>"$D/mkdeb.err"); rc=$?
t_eq "make deb (scripts/mkdeb.sh) builds a package" "$rc" 0
[ $rc -eq 0 ] || { sed 's/^/# /' "$D/mkdeb.err"; t_done; }
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$D/contents"
echo "# $(basename "$deb"): $(wc -l <"$D/contents") entries, $(stat -c %s "$deb") bytes"
for f in /usr/sbin/keyholed /usr/bin/keyhole /usr/bin/keyhole-shim \
	/usr/share/man/man1/keyhole.1.gz /usr/share/man/man8/keyholed.8.gz \
	/usr/share/man/man1/keyhole-shim.1.gz /lib/systemd/system/keyholed.service \
	/etc/keyhole/keyholed.conf /etc/logrotate.d/keyhole \
	/usr/share/bash-completion/completions/keyhole /usr/share/doc/keyhole/README.md.gz \
	/usr/share/doc/keyhole/examples/policy.example.json /usr/share/doc/keyhole/copyright \
	/usr/share/doc/keyhole/examples/fleet.conf; do
	t_run "deb holds $f" grep -qx "$f" "$D/contents"
done
t_run "deb: keyholed.conf and the logrotate snippet are conffiles" \
	bash -c "dpkg-deb -I '$deb' conffiles | grep -qx /etc/keyhole/keyholed.conf"
t_run "logrotate snippet reopens the log with SIGUSR1" \
	grep -q 'systemctl kill -s USR1 keyholed' "$KH_ROOT/deploy/keyhole.logrotate"
t_run "deb: Depends computed (libsodium)" bash -c "dpkg-deb -f '$deb' Depends | grep -q libsodium"
if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 "$deb" >"$D/lintian.out" 2>&1
	sed 's/^/# lintian: /' "$D/lintian.out" | grep -v 'root privileges'
	t_fails "lintian reports no error" grep -q '^E:' "$D/lintian.out"
else
	t_notok "lintian installed (scripts/deps.sh)"
fi
t_done
