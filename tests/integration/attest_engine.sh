#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Live engine check (root, podman): a private podman API service
# (scripts/engine-lab.sh), a real container whose entrypoint dials peerprobe
# through a bind-mounted socket. Expect runtime podman, the container's id,
# name, image and labels from GET /containers/<id>/json, and the peer in the
# same pid namespace as State.Pid. A host process moved into the container's
# cgroups is caught by that pid-namespace check. Skips without podman.
. "$(dirname "$0")/../lib.sh"
t_need_root
PROBE=$KH_BUILD/tools/peerprobe
[ -x "$PROBE" ] || t_skip "no $PROBE (make tests-build)"
command -v podman >/dev/null || t_skip "podman not installed"
command -v jq >/dev/null || t_skip "no jq"
CC_STATIC=$(command -v musl-gcc || true)
[ -n "$CC_STATIC" ] || CC_STATIC=cc
. "$KH_ROOT/scripts/engine-lab.sh"

T=$(t_tmpdir)
LAB=$T/lab
mkdir -p "$LAB" "$T/kh" "$T/bin"
chmod 0755 "$T" "$T/kh"

# A static dialer for the scratch image: connect, wait for the hang-up,
# then (unless "once") stay alive as the container's init.
cat >"$T/kh-dial.c" <<'C'
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char b;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path))
		return 100;
	strcpy(sa.sun_path, argv[1]);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 111;
	while (read(fd, &b, 1) > 0)
		;
	if (argc > 2)
		return 0;
	for (;;)
		pause();
}
C
"$CC_STATIC" -static -O2 -o "$T/bin/kh-dial" "$T/kh-dial.c" || t_skip "cannot build a static binary"

t_cleanup "el_stop podman '$LAB'"
el_start podman "$LAB" || t_skip "$(el_why)"
el_image podman "$LAB" localhost/kh-dial:1 "$T/bin/kh-dial" || t_skip "$(el_why)"
ENGINE=unix://$(el_sock podman "$LAB")

OUT=$T/probe.out
"$PROBE" "$T/kh/probe.sock" --engine "$ENGINE" >"$OUT" 2>"$T/probe.err" &
t_cleanup "kill $!"
t_wait_for "[ -S '$T/kh/probe.sock' ]" || { t_notok "peerprobe did not start"; t_done; }

lines() { wc -l <"$OUT"; }
field() { jq -r "if .$1 == null then \"-\" else .$1 end" <<<"$2"; }

CID=$(el_cli podman "$LAB" run -d --name kh-payments-$$ --label team=payments \
	--user 1000:1000 -v "$T/kh:/run/kh" localhost/kh-dial:1 /bin/kh-dial /run/kh/probe.sock 2>"$T/run.err")
if [ -z "$CID" ]; then
	grep -q . "$T/run.err" && t_skip "podman cannot run a container here: $(tail -1 "$T/run.err")"
	t_skip "podman run failed"
fi
t_wait_for "[ \$(lines) -ge 1 ]" 20
j=$(sed -n 1p "$OUT")
t_eq "container entrypoint: runtime/id" "$(field runtime "$j")/$(field id "$j")" "podman/$CID"
t_eq "container entrypoint: uid from SO_PEERCRED" "$(field uid "$j")" 1000
t_eq "engine: name (leading / stripped)" "$(field name "$j")" "kh-payments-$$"
t_eq "engine: image" "$(field image "$j")" "localhost/kh-dial:1"
t_eq "engine: labels" "$(field labels.team "$j")" payments
t_eq "engine: not privileged, not root" "$(field privileged "$j")/$(field root "$j")" false/false
t_eq "engine: peer shares State.Pid's pid namespace" "$(field same_pidns "$j")" true
CPID=$(el_cli podman "$LAB" inspect -f '{{.State.Pid}}' "$CID")
t_eq "engine: State.Pid is the dialer" "$(field engine_pid "$j")" "$CPID"

# A second process in the container (podman exec): same container, same ns.
el_cli podman "$LAB" exec "$CID" /bin/kh-dial /run/kh/probe.sock once >/dev/null 2>&1
t_wait_for "[ \$(lines) -ge 2 ]" 10
j=$(sed -n 2p "$OUT")
t_eq "podman exec: runtime/id" "$(field runtime "$j")/$(field id "$j")" "podman/$CID"
t_eq "podman exec: same pid namespace" "$(field same_pidns "$j")" true

# A host process moved into every cgroup of the container: the cgroup says
# "container", the pid namespace says otherwise.
fifo=$T/fifo
mkfifo "$fifo"
bash -c 'read -r _ <"$1"; exec timeout 10 "$2" "$3" once' _ "$fifo" "$T/bin/kh-dial" \
	"$T/kh/probe.sock" &
hp=$!
for h in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | grep '^/sys/fs/cgroup'); do
	c=$(awk -F: -v h="$(basename "$h")" '$2 ~ h || ($1 == 0 && h == "unified") { print $3 }' "/proc/$CPID/cgroup" | head -1)
	[ -n "$c" ] && [ -d "$h$c" ] && echo "$hp" >"$h$c/cgroup.procs" 2>/dev/null
done
echo go >"$fifo"
wait "$hp"
t_wait_for "[ \$(lines) -ge 3 ]" 10
j=$(sed -n 3p "$OUT")
t_eq "host process in the container's cgroups: cgroup names it" "$(field id "$j")" "$CID"
t_eq "host process in the container's cgroups: pid namespace differs" "$(field same_pidns "$j")" false
t_done
