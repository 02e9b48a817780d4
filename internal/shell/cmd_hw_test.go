package shell

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestSystemCommands(t *testing.T) {
	runShellCases(t, []shellCase{
		{"debian", "root", "getconf LONG_BIT; getconf _NPROCESSORS_ONLN; getconf PAGESIZE",
			"64\n4\n4096\n", 0},
		{"debian", "root", "getconf GNU_LIBC_VERSION",
			"glibc 2.36\n", 0},
		{"rocky9", "root", "getconf GNU_LIBC_VERSION",
			"glibc 2.34\n", 0},
		{"debian", "root", "getconf FOO",
			"getconf: Unrecognized variable `FOO'\n", 2},
		{"debian", "root", "getconf",
			"Usage: getconf [-v specification] variable_name [pathname]\n       getconf -a [pathname]\n", 2},
		{"debian", "root", "dmidecode -s system-product-name; dmidecode -s system-manufacturer; dmidecode -s bios-vendor",
			"Standard PC (i440FX + PIIX, 1996)\nQEMU\nSeaBIOS\n", 0},
		{"debian", "root", "dmidecode -s system-uuid",
			"5dc91bf4-5530-4457-a564-2309e613c154\n", 0},
		{"debian", "root", "dmidecode -t system",
			"# dmidecode 3.4\nGetting SMBIOS data from sysfs.\nSMBIOS 2.8 present.\n\nHandle 0x0100, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: QEMU\n\tProduct Name: Standard PC (i440FX + PIIX, 1996)\n\tVersion: pc-i440fx-7.2\n\tSerial Number: Not Specified\n\tUUID: 5dc91bf4-5530-4457-a564-2309e613c154\n\tWake-up Type: Power Switch\n\tSKU Number: Not Specified\n\tFamily: Not Specified\n\n", 0},
		{"debian", "admin", "dmidecode -s system-product-name",
			"bash: line 1: dmidecode: command not found\n", 127},
		{"debian", "admin", "/usr/sbin/dmidecode -s system-product-name",
			"/sys/firmware/dmi/tables/smbios_entry_point: Permission denied\n/dev/mem: Permission denied\n", 1},
		{"rocky9", "rocky", "dmidecode -s system-product-name",
			"/sys/firmware/dmi/tables/smbios_entry_point: Permission denied\n/dev/mem: Permission denied\n", 1},
		{"debian", "root", "lsblk",
			"NAME    MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS\nsr0      11:0    1 1024M  0 rom  \nvda     254:0    0   40G  0 disk \n├─vda1  254:1    0 39.9G  0 part /\n├─vda14 254:14   0    3M  0 part \n└─vda15 254:15   0  124M  0 part /boot/efi\n", 0},
		{"rocky9", "root", "lsblk",
			"NAME        MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS\nsr0          11:0    1 1024M  0 rom  \nvda         252:0    0   40G  0 disk \n├─vda1      252:1    0    1G  0 part /boot\n└─vda2      252:2    0   39G  0 part \n  └─rl-root 253:0    0   39G  0 lvm  /\n", 0},
		{"ubuntu20", "root", "lsblk | head -1",
			"NAME    MAJ:MIN RM  SIZE RO TYPE MOUNTPOINT\n", 0},
		{"debian", "root", "ss -tulpn",
			"Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\ntcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:((\"sshd\",pid=812,fd=3))\ntcp   LISTEN 0      128             [::]:22           [::]:*    users:((\"sshd\",pid=812,fd=4))\nudp   UNCONN 0      0            0.0.0.0:68        0.0.0.0:*    users:((\"dhclient\",pid=488,fd=7))\n", 0},
		{"debian", "admin", "ss -tlnp",
			"State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 0      128          0.0.0.0:22        0.0.0.0:*\nLISTEN 0      128             [::]:22           [::]:*\n", 0},
		{"ubuntu22", "root", "ss -tln",
			"State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 0      128          0.0.0.0:22        0.0.0.0:*\nLISTEN 0      128             [::]:22           [::]:*\nLISTEN 0      128    127.0.0.53%lo:53        0.0.0.0:*\n", 0},
		{"rocky9", "root", "ss -s",
			"Total: 111\nTCP:   3 (estab 1, closed 0, orphaned 0, timewait 0)\n\nTransport Total     IP        IPv6\nRAW       0         0         0        \nUDP       2         1         1        \nTCP       3         2         1        \nINET      5         3         2        \nFRAG      0         0         0        \n", 0},
		{"debian", "root", "ss -tn | grep -c '10.0.0.23:22 *203.0.113.9:[0-9]*$'",
			"1\n", 0},
		{"kali", "root", "netstat -tulpn",
			"Active Internet connections (only servers)\nProto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    \ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd            \ntcp6       0      0 :::22                   :::*                    LISTEN      812/sshd            \nudp        0      0 0.0.0.0:68              0.0.0.0:*                           488/dhclient        \n", 0},
		{"kali", "root", "netstat -an | head -5",
			"Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN     \ntcp6       0      0 :::22                   :::*                    LISTEN     \nudp        0      0 0.0.0.0:68              0.0.0.0:*                          \n", 0},
		{"kali", "root", "netstat -an | grep -c '10.0.0.23:22 *203.0.113.9:[0-9]* *ESTABLISHED'",
			"1\n", 0},
		{"debian", "root", "netstat -an",
			"bash: line 1: netstat: command not found\n", 127},
		{"debian", "root", "kill -9 1",
			"", 0},
		{"debian", "admin", "kill -9 1",
			"bash: line 1: kill: (1) - Operation not permitted\n", 1},
		{"debian", "root", "kill 99999",
			"bash: line 1: kill: (99999) - No such process\n", 1},
		{"debian", "root", "kill abc",
			"bash: line 1: kill: abc: arguments must be process or job IDs\n", 1},
		{"debian", "root", "kill",
			"bash: line 1: kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n", 2},
		{"debian", "root", "pkill -9 xmrig; echo $?",
			"1\n", 0},
		{"debian", "admin", "pkill cron",
			"pkill: killing pid 512 failed: Operation not permitted\n", 1},
		{"debian", "root", "pgrep sshd | head -1; pgrep sshd | wc -l",
			"812\n3\n", 0},
		{"debian", "root", "pgrep -f 'sshd: root' | wc -l",
			"2\n", 0},
		{"debian", "root", "killall -9 xmrig kworker",
			"xmrig: no process found\nkworker: no process found\n", 1},
		{"debian", "admin", "killall cron",
			"cron(512): Operation not permitted\n", 1},
		{"debian", "root", "ulimit -n; ulimit -n 65535; ulimit -n",
			"1024\n65535\n", 0},
		{"debian", "admin", "ulimit -n 99999",
			"bash: line 1: ulimit: open files: cannot modify limit: Operation not permitted\n", 1},
		{"debian", "root", "ulimit -a",
			"real-time non-blocking time  (microseconds, -R) unlimited\ncore file size              (blocks, -c) 0\ndata seg size               (kbytes, -d) unlimited\nscheduling priority                 (-e) 0\nfile size                   (blocks, -f) unlimited\npending signals                     (-i) 31478\nmax locked memory           (kbytes, -l) 8192\nmax memory size             (kbytes, -m) unlimited\nopen files                          (-n) 1024\npipe size                (512 bytes, -p) 8\nPOSIX message queues         (bytes, -q) 819200\nreal-time priority                  (-r) 0\nstack size                  (kbytes, -s) 8192\ncpu time                   (seconds, -t) unlimited\nmax user processes                  (-u) 31478\nvirtual memory              (kbytes, -v) unlimited\nfile locks                          (-x) unlimited\n", 0},
		{"ubuntu22", "root", "ulimit -a | head -2",
			"core file size              (blocks, -c) 0\ndata seg size               (kbytes, -d) unlimited\n", 0},
		{"debian", "root", "ulimit -z",
			"bash: line 1: ulimit: -z: invalid option\nulimit: usage: ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]\n", 2},
		{"debian", "root", "chattr -ia /root/.ssh/authorized_keys; echo $?",
			"0\n", 0},
		{"debian", "root", "chattr +i /nope",
			"chattr: No such file or directory while trying to stat /nope\n", 1},
		{"debian", "root", "chattr",
			"Usage: chattr [-RVf] [-+=aAcCdDeijPsStTuFx] [-p project] [-v version] files...\n", 1},
		{"debian", "admin", "chattr +i /home/admin/.bashrc",
			"chattr: Operation not permitted while setting flags on /home/admin/.bashrc\n", 1},
		{"debian", "root", "lsattr /root/.ssh/authorized_keys",
			"--------------e------- /root/.ssh/authorized_keys\n", 0},
		{"debian", "root", "lsattr -d /root",
			"--------------e------- /root\n", 0},
		{"debian", "root", "cd /root/projects && lsattr",
			"--------------e------- ./app.service\n--------------e------- ./backup.sh\n", 0},
		{"rocky9", "root", "lsattr /etc/hostname",
			"---------------------- /etc/hostname\n", 0},
		{"debian", "root", "lsattr /proc/cpuinfo",
			"lsattr: Inappropriate ioctl for device While reading flags on /proc/cpuinfo\n", 1},
		{"debian", "root", "/bin/busybox MIRAI; echo $?",
			"MIRAI: applet not found\n127\n", 0},
		{"debian", "root", "busybox echo hi",
			"hi\n", 0},
		{"alpine", "root", "busybox ECCHI",
			"ECCHI: applet not found\n", 127},
		{"debian", "root", "busybox | head -2",
			"BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.\nBusyBox is copyrighted by many authors between 1998-2015.\n", 0},
		{"rocky9", "root", "busybox",
			"bash: line 1: busybox: command not found\n", 127},
		{"debian", "root", "enable | head -3",
			"enable .\nenable :\nenable [\n", 0},
		{"alpine", "root", "enable",
			"ash: enable: not found\n", 127},
		{"debian", "root", "which lscpu top getconf lsblk dmidecode ss netstat cut awk sort uniq tr base64 printf chattr lsattr pkill killall busybox",
			"/usr/bin/lscpu\n/usr/bin/top\n/usr/bin/getconf\n/usr/bin/lsblk\n/usr/sbin/dmidecode\n/usr/bin/ss\n/usr/bin/cut\n/usr/bin/awk\n/usr/bin/sort\n/usr/bin/uniq\n/usr/bin/tr\n/usr/bin/base64\n/usr/bin/printf\n/usr/bin/chattr\n/usr/bin/lsattr\n/usr/bin/pkill\n/usr/bin/killall\n/usr/bin/busybox\n", 1},
		{"debian", "admin", "which dmidecode chpasswd ifconfig netstat",
			"", 1},
		{"kali", "root", "which netstat ifconfig awk mawk gawk",
			"/usr/bin/netstat\n/usr/sbin/ifconfig\n/usr/bin/awk\n/usr/bin/mawk\n", 1},
		{"rocky9", "root", "which awk gawk mawk ip ss busybox",
			"/usr/bin/awk\n/usr/bin/gawk\n/usr/bin/which: no mawk in (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)\n/usr/sbin/ip\n/usr/sbin/ss\n/usr/bin/which: no busybox in (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)\n", 1},
		{"alpine", "root", "which lscpu lsblk ss dmidecode awk",
			"/bin/awk\n", 1},
		{"debian", "root", "type printf kill ulimit enable",
			"printf is a shell builtin\nkill is a shell builtin\nulimit is a shell builtin\nenable is a shell builtin\n", 0},
	})
}

// TestProgramsWhereTheDistroHasThem checks that which, PATH lookup and the
// dispatcher agree on every implemented program: present where the
// distribution installs it, in the directory it uses, absent elsewhere.
func TestProgramsWhereTheDistroHasThem(t *testing.T) {
	for _, distro := range []string{"debian", "ubuntu22", "ubuntu20", "rocky9", "centos7", "alpine", "fedora", "kali", "arch"} {
		s := newTestSession(t, distro, "root", "")
		for _, name := range binaries() {
			place := binPlaces[name]
			wantDir := "/usr/bin"
			switch {
			case s.d.ash:
				wantDir = "/bin"
			case place.sbin != nil && place.sbin(s.d):
				wantDir = "/usr/sbin"
			}
			p, found := s.lookPath(name)
			switch missing := place.missing != nil && place.missing(s.d); {
			case missing && found:
				t.Errorf("%s: %s found at %s, but the distro lacks it", distro, name, p)
			case !missing && p != wantDir+"/"+name:
				t.Errorf("%s: %s at %q, want %s/%s", distro, name, p, wantDir, name)
			}
			if out, st := runLine(s, "which "+name); found != (st == 0) || found && out != p+"\n" {
				t.Errorf("%s: which %s = %q (%d), lookPath %q", distro, name, out, st, p)
			}
		}
	}
}

// rwBuffer is a terminal for Interact: input from a string, output kept.
type rwBuffer struct {
	in  *strings.Reader
	out bytes.Buffer
}

func (b *rwBuffer) Read(p []byte) (int, error)  { return b.in.Read(p) }
func (b *rwBuffer) Write(p []byte) (int, error) { return b.out.Write(p) }

// TestInteractiveTopQuit checks that the q that quits top is top's: the
// shell takes only a later one as a command.
func TestInteractiveTopQuit(t *testing.T) {
	s := newTestSession(t, "debian", "root", "pts/0")
	term := &rwBuffer{in: strings.NewReader("top\rq\rq\rtype q\rhistory\rexit\r")}
	s.Interact(context.Background(), term, WindowSize{Width: 80, Height: 24}, nil)
	got := term.out.String()
	screen := strings.Index(got, "\x1b[H\x1b[2Jtop - 20:46:26 up 3 days,  4:12,  1 user,  load average")
	notFound := strings.Index(got, "-bash: q: command not found\r\n")
	if screen < 0 || notFound < screen || strings.Count(got, "q: command not found") != 1 {
		t.Errorf("top then q, q:\n%q", got)
	}
	if !strings.Contains(got, "   19  top\r\n   20  q\r\n   21  type q\r\n") {
		t.Errorf("history:\n%q", got)
	}
	if !strings.Contains(got, "-bash: type: q: not found\r\n") {
		t.Errorf("type q shows the builtin:\n%q", got)
	}
}
