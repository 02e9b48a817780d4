#!/bin/sh
# Re-records testdata/busybox from a real busybox telnetd (run as root).
#
#   run_busybox.sh BUSYBOX [NAME...]
#
# BUSYBOX is a static busybox with telnetd (FEATURE_TELNETD_STANDALONE),
# login, ash and cryptpw, e.g. 1_36_1 built with "make defconfig", TC off,
# STATIC, USE_BB_PWD_GRP and USE_BB_SHADOW on. The script builds a root
# directory like an IoT device's (no /etc/issue.net, no /etc/securetty,
# Alpine's motd and PS1), starts "telnetd -F" in its own mount, UTS and PID
# namespaces with hostname "vm" (the host name of the other transcripts),
# records the conversations of record_busybox.py (all, or the NAMEs) into
# testdata/busybox,
# and stops the server. Account rptest (and root) has password Secret123.
set -eu
bb=$(realpath "$1")
shift
addr=${BB_ADDR:-127.0.0.67}
port=${BB_PORT:-2323}
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /tmp/bbroot.XXXXXX)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" "$root/dev/pts" "$root/proc" \
	"$root/root" "$root/home/rptest" "$root/tmp" "$root/var/run"
chmod 755 "$root"
cp "$bb" "$root/bin/busybox"
chroot "$root" /bin/busybox --install -s
hash=$("$bb" cryptpw -m sha512 -S abcdefgh Secret123)
printf 'root:x:0:0:root:/root:/bin/sh\nrptest:x:1000:1000:rptest:/home/rptest:/bin/sh\n' >"$root/etc/passwd"
printf 'root:%s:19000:0:99999:7:::\nrptest:%s:19000:0:99999:7:::\n' "$hash" "$hash" >"$root/etc/shadow"
printf 'root:x:0:root\nrptest:x:1000:\n' >"$root/etc/group"
chmod 600 "$root/etc/shadow"
chown 1000:1000 "$root/home/rptest"
# Alpine's /etc/motd and the PS1 of its /etc/profile.
cat >"$root/etc/motd" <<'EOF'
Welcome to Alpine!

The Alpine Wiki contains a large amount of how-to guides and general
information about administrating Alpine systems.
See <https://wiki.alpinelinux.org/>.

You can setup the system with the command: setup-alpine

You may change this message by editing /etc/motd.

EOF
printf "export PS1='\\\\h:\\\\w\\\\\$ '\n" >"$root/etc/profile"

# An asynchronous command of sh starts with SIGINT and SIGQUIT ignored,
# which login would inherit: restore them as init would have them.
/usr/bin/python3 -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT):
    signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' unshare --mount --uts --pid --fork --kill-child sh -c "
	set -e
	hostname vm
	mount -t proc proc '$root/proc'
	mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts '$root/dev/pts'
	ln -s pts/ptmx '$root/dev/ptmx'
	touch '$root/dev/null' && mount --bind /dev/null '$root/dev/null'
	exec chroot '$root' /bin/busybox telnetd -F -p $port -b $addr -l /bin/login
" &
server=$!
sleep 1
status=0
if [ $# -eq 0 ] || [ "$*" = inetutils ]; then
	# The real GNU inetutils telnet client, driven by expect, through a
	# recording proxy.
	/usr/bin/python3 "$here/record_busybox.py" --proxy 2324 "$addr" "$port" "$here/busybox/inetutils.txt" \
		"the real GNU inetutils telnet 2.4 client, driven by expect: a wrong password, the right one, a command" &
	rec=$!
	sleep 0.5
	env -i PATH="$PATH" TERM=xterm HOME=/tmp expect -c '
		set timeout 20
		spawn telnet 127.0.0.1 2324
		expect "login: "; send "rptest\r"
		expect "Password: "; send "wrong\r"
		expect "Login incorrect"; expect "login: "; send "rptest\r"
		expect "Password: "; send "Secret123\r"
		expect "$ "; send "echo hi\r"
		expect "$ "; close; wait' >/dev/null || status=$?
	wait $rec || status=$?
	[ "$*" = inetutils ] && set -- -
fi
if [ "$*" != - ]; then
	/usr/bin/python3 "$here/record_busybox.py" "$addr" "$port" "$here/busybox" "$@" || status=$?
fi
kill -KILL "$server"
wait "$server" 2>/dev/null || true
exit $status
