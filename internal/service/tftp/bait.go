package tftp

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

// The bait sets (persona key bait).
const (
	baitAuto   = ""
	baitRouter = "router" // a network team's config backup server
	baitPXE    = "pxe"    // a PXE boot server with unattended-install files
	baitNone   = "none"
)

// The sizes of Debian 12's pxelinux.0 and ldlinux.c32 (pxelinux and
// syslinux-common 3:6.04~git20190206.bf6db5b4+dfsg1-3).
const (
	pxelinuxSize = 42430
	ldlinuxSize  = 119524
)

// baitSet is the set a decky serves: the persona's choice, else a router
// configuration server for the network OS families and a PXE server for
// the others.
func baitSet(choice, osFamily string) string {
	if choice != baitAuto {
		return choice
	}
	if osFamily == archetype.OSCisco || osFamily == archetype.OSEmbedded {
		return baitRouter
	}
	return baitPXE
}

// baitFiles returns the decky's bait files, by clean path. They are drawn
// from its name, so each decky has its own secrets and keeps them across
// restarts; dates move only when the decky "reboots" (archetype.Boot).
func baitFiles(set string, h service.Host, now time.Time) map[string][]byte {
	f := fnv.New64a()
	f.Write([]byte(h.Name + "|tftp"))
	b := &baitGen{r: rand.New(rand.NewPCG(f.Sum64(), 0x7f7f)), h: h, boot: archetype.Boot(h.Name, now)}
	b.net = deckyNet(h.IP, b.r)
	switch set {
	case baitRouter:
		return b.router()
	case baitPXE:
		return b.pxe()
	}
	return map[string][]byte{}
}

// baitGen draws one decky's bait.
type baitGen struct {
	r    *rand.Rand
	h    service.Host
	boot time.Time
	net  netip.Prefix // the decky's /24, its address in it
}

// deckyNet is the decky's address in a /24, or a private one when it has
// none that parses.
func deckyNet(ip string, r *rand.Rand) netip.Prefix {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		a = netip.AddrFrom4([4]byte{10, byte(r.IntN(250)), byte(r.IntN(250)), byte(10 + r.IntN(200))})
	}
	return netip.PrefixFrom(a, 24)
}

// host returns the address .n of the decky's /24.
func (b *baitGen) host(n byte) string {
	a := b.net.Addr().As4()
	a[3] = n
	return netip.AddrFrom4(a).String()
}

func (b *baitGen) shortHost() string {
	s, _, _ := strings.Cut(b.h.Hostname, ".")
	if s == "" {
		s = "core-sw01"
	}
	return s
}

// domain is the decky's DNS domain, or an internal-looking one.
func (b *baitGen) domain() string {
	if _, d, ok := strings.Cut(b.h.Hostname, "."); ok && d != "localdomain" {
		return d
	}
	return "corp.local"
}

// pick returns one of choices.
func (b *baitGen) pick(choices ...string) string { return choices[b.r.IntN(len(choices))] }

// chars returns n characters of alphabet.
func (b *baitGen) chars(n int, alphabet string) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[b.r.IntN(len(alphabet))]
	}
	return string(out)
}

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// md5crypt and sha512crypt return strings shaped like crypt(3) hashes.
func (b *baitGen) md5crypt() string {
	return "$1$" + b.chars(4, cryptAlphabet) + "$" + b.chars(22, cryptAlphabet)
}

func (b *baitGen) sha512crypt() string {
	return "$6$" + b.chars(16, cryptAlphabet) + "$" + b.chars(86, cryptAlphabet)
}

// password is a password an administrator might choose.
func (b *baitGen) password() string {
	return b.pick("Cisco", "Netw0rk", "Sw1tch", "Backup", "Provision", "Deploy", "Welcome", "Admin") +
		b.pick("2023", "2024", "123", "@2024", "#01", "!") + b.pick("", "!", "$", "#")
}

// sshKey is an authorized_keys line with a random ed25519 key.
func (b *baitGen) sshKey(comment string) string {
	blob := binary.BigEndian.AppendUint32(nil, 11)
	blob = append(blob, "ssh-ed25519"...)
	blob = binary.BigEndian.AppendUint32(blob, 32)
	for range 32 {
		blob = append(blob, byte(b.r.UintN(256)))
	}
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob) + " " + comment
}

// changed is a configuration change time some days before the decky's
// boot, in IOS's format.
func (b *baitGen) changed(daysBefore int) string {
	t := b.boot.UTC().Add(-time.Duration(daysBefore)*24*time.Hour - time.Duration(b.r.IntN(86400))*time.Second)
	return t.Format("15:04:05 UTC Mon Jan 2 2006")
}

// router is a config backup server's root: what `copy running-config
// tftp:` and `copy startup-config tftp:` leave there, the switch's own
// backup under the autoinstall name <host>-confg, and network-confg.
func (b *baitGen) router() map[string][]byte {
	host := b.shortHost()
	user := b.pick("netadmin", "admin", "cisco", "noc")
	userPw := b.password()
	vtyPw := b.password()
	enable := b.md5crypt()
	ro := b.pick("public", "monitor", "n0c-ro", "snmpread") + fmt.Sprint(b.r.IntN(100))
	rw := b.chars(12, "abcdefghijklmnopqrstuvwxyz0123456789")
	contractor, contractorPw := b.pick("vendor", "support", "tac"), b.password()
	lastChange := b.changed(1 + b.r.IntN(6))
	nvram := b.changed(8 + b.r.IntN(20))
	gw := b.host(1)
	me := b.net.Addr().String()
	tacacs := b.host(byte(20 + b.r.IntN(30)))
	syslog := b.host(byte(50 + b.r.IntN(30)))
	nameServer := b.host(byte(2 + b.r.IntN(8)))
	trustpoint := 1000000000 + b.r.IntN(3000000000)
	location := b.pick("Server room B", "DC1 rack 12", "IDF-2 closet", "Main office MDF")
	type7 := func(pw string) string { return ciscoType7(pw, b.r.IntN(16)) }
	user7, contractor7, con7, vty7, vty7b := type7(userPw), type7(contractorPw), type7(vtyPw), type7(vtyPw), type7(vtyPw)
	tacacsKey := type7(b.chars(10, "abcdefghijklmnopqrstuvwxyz0123456789"))

	cfg := func(running bool) string {
		var s strings.Builder
		w := func(format string, args ...any) { fmt.Fprintf(&s, format+"\n", args...) }
		w("!")
		if running {
			w("! Last configuration change at %s by %s", lastChange, user)
		} else {
			w("! Last configuration change at %s by %s", nvram, user)
		}
		w("! NVRAM config last updated at %s by %s", nvram, user)
		w("!")
		w("version 15.2")
		w("no service pad")
		w("service timestamps debug datetime msec")
		w("service timestamps log datetime msec")
		w("service password-encryption")
		w("!")
		w("hostname %s", host)
		w("!")
		w("boot-start-marker")
		w("boot-end-marker")
		w("!")
		w("logging buffered 16384")
		w("enable secret 5 %s", enable)
		w("!")
		w("username %s privilege 15 password 7 %s", user, user7)
		if running {
			w("username %s privilege 15 password 7 %s", contractor, contractor7)
		}
		w("aaa new-model")
		w("!")
		w("aaa authentication login default group tacacs+ local")
		w("aaa authorization exec default group tacacs+ local")
		w("!")
		w("aaa session-id common")
		w("system mtu routing 1500")
		w("!")
		w("ip domain-name %s", b.domain())
		w("ip name-server %s", nameServer)
		w("!")
		w("crypto pki trustpoint TP-self-signed-%d", trustpoint)
		w(" enrollment selfsigned")
		w(" revocation-check none")
		w("!")
		w("spanning-tree mode rapid-pvst")
		w("spanning-tree extend system-id")
		w("!")
		w("vlan internal allocation policy ascending")
		w("!")
		w("ip ssh version 2")
		w("!")
		for i := 1; i <= 24; i++ {
			w("interface FastEthernet0/%d", i)
			switch {
			case i <= 20:
				w(" switchport access vlan %d", 10+10*(i%3))
				w(" switchport mode access")
				w(" spanning-tree portfast")
			default:
				w(" shutdown")
			}
			w("!")
		}
		for i := 1; i <= 2; i++ {
			w("interface GigabitEthernet0/%d", i)
			w(" description UPLINK-%d", i)
			w(" switchport mode trunk")
			w("!")
		}
		w("interface Vlan1")
		w(" ip address %s 255.255.255.0", me)
		w("!")
		w("ip default-gateway %s", gw)
		w("ip http server")
		w("ip http secure-server")
		w("!")
		w("logging host %s", syslog)
		w("snmp-server community %s RO", ro)
		w("snmp-server community %s RW", rw)
		w("snmp-server location %s", location)
		w("snmp-server contact noc@%s", b.domain())
		w("tacacs-server host %s", tacacs)
		w("tacacs-server key 7 %s", tacacsKey)
		w("!")
		w("line con 0")
		w(" password 7 %s", con7)
		w("line vty 0 4")
		w(" password 7 %s", vty7)
		w(" transport input ssh telnet")
		w("line vty 5 15")
		w(" password 7 %s", vty7b)
		w(" transport input ssh telnet")
		w("!")
		w("ntp server %s", gw)
		w("end")
		return s.String()
	}
	startup := cfg(false)
	netcfg := fmt.Sprintf("ip host %s %s\nip host %s %s\nip host %s %s\n",
		host, b.net.Addr(), "core-rtr01", gw, b.pick("dist-sw02", "access-sw03", "edge-sw02"), b.host(byte(3+b.r.IntN(5))))
	return map[string][]byte{
		"running-config": []byte(cfg(true)),
		"startup-config": []byte(startup),
		host + "-confg":  []byte(startup),
		"network-confg":  []byte(netcfg),
	}
}

// ciscoType7 is IOS's reversible "password 7" encoding of pw with the
// given salt (0-15).
func ciscoType7(pw string, salt int) string {
	const xlat = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
	var s strings.Builder
	fmt.Fprintf(&s, "%02d", salt)
	for i := 0; i < len(pw); i++ {
		fmt.Fprintf(&s, "%02X", pw[i]^xlat[(salt+i)%len(xlat)])
	}
	return s.String()
}

// pxe is a PXE boot server's root: the pxelinux loader and its config,
// and the unattended-install file of the decky's distro family, with the
// provisioning account's password and an authorized key.
func (b *baitGen) pxe() map[string][]byte {
	me := b.net.Addr().String()
	user := b.pick("ansible", "deploy", "provision", "sysadmin")
	pw := b.password()
	rootHash := b.sha512crypt()
	key := b.sshKey(user + "@" + b.pick("deploy01", "mgmt", "jumphost", "awx"))
	files := map[string][]byte{
		"pxelinux.0":  stubBinary(pxelinuxSize, "PXELINUX 6.04 PXE 20190226 Copyright (C) 1994-2014 H. Peter Anvin et al"),
		"ldlinux.c32": stubBinary(ldlinuxSize, "ldlinux.c32"),
	}
	var label, kernel, appendLine string
	if d, err := archetype.LookupDistro(b.h.Distro); err == nil && d.HostnameStyle == archetype.StyleRHEL {
		label, kernel = "Rocky Linux 9 (kickstart)", "rocky9/vmlinuz"
		appendLine = fmt.Sprintf("initrd=rocky9/initrd.img inst.ks=http://%s/ks.cfg inst.text ip=dhcp", me)
		files["ks.cfg"] = []byte(fmt.Sprintf(`#version=RHEL9
text
url --url="http://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/"
lang en_US.UTF-8
keyboard us
timezone UTC --utc
network --bootproto=dhcp --device=link --activate
rootpw --iscrypted %s
user --name=%s --groups=wheel --password=%s --plaintext
firewall --enabled --service=ssh
selinux --enforcing
bootloader --location=mbr
zerombr
clearpart --all --initlabel
autopart --type=lvm
reboot

%%packages
@^minimal-environment
openssh-server
python3
%%end

%%post
mkdir -p /root/.ssh
echo "%s" >> /root/.ssh/authorized_keys
chmod 700 /root/.ssh
chmod 600 /root/.ssh/authorized_keys
echo "%s ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/%s
%%end
`, rootHash, user, pw, key, user, user))
	} else {
		label, kernel = "Debian 12 (preseed)", "debian-installer/amd64/linux"
		appendLine = fmt.Sprintf("initrd=debian-installer/amd64/initrd.gz auto=true priority=critical preseed/url=tftp://%s/preseed.cfg vga=788 --- quiet", me)
		files["preseed.cfg"] = []byte(fmt.Sprintf(`d-i debian-installer/locale string en_US.UTF-8
d-i keyboard-configuration/xkb-keymap select us
d-i netcfg/choose_interface select auto
d-i netcfg/get_domain string %s
d-i mirror/country string manual
d-i mirror/http/hostname string deb.debian.org
d-i mirror/http/directory string /debian
d-i mirror/http/proxy string
d-i passwd/root-login boolean true
d-i passwd/root-password-crypted password %s
d-i passwd/user-fullname string Provisioning
d-i passwd/username string %s
d-i passwd/user-password password %s
d-i passwd/user-password-again password %s
d-i clock-setup/utc boolean true
d-i time/zone string UTC
d-i partman-auto/method string lvm
d-i partman-auto/choose_recipe select atomic
d-i partman-lvm/device_remove_lvm boolean true
d-i partman-lvm/confirm boolean true
d-i partman-lvm/confirm_nooverwrite boolean true
d-i partman/confirm_write_new_label boolean true
d-i partman/choose_partition select finish
d-i partman/confirm boolean true
d-i partman/confirm_nooverwrite boolean true
tasksel tasksel/first multiselect standard, ssh-server
d-i pkgsel/include string sudo python3 curl
popularity-contest popularity-contest/participate boolean false
d-i grub-installer/only_debian boolean true
d-i grub-installer/bootdev string default
d-i preseed/late_command string in-target sh -c 'mkdir -p /root/.ssh && echo "%s" >> /root/.ssh/authorized_keys && echo "%s ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/%s'
d-i finish-install/reboot_in_progress note
`, b.domain(), rootHash, user, pw, pw, key, user, user))
	}
	files["pxelinux.cfg/default"] = []byte(fmt.Sprintf(`DEFAULT install
PROMPT 0
TIMEOUT 50

LABEL install
  MENU LABEL ^Install %s
  KERNEL %s
  APPEND %s

LABEL local
  MENU LABEL Boot from ^local disk
  LOCALBOOT 0
`, label, kernel, appendLine))
	return files
}

// stubBinary is size bytes that pass for a boot loader at a glance: a
// banner in noise that is the same on every decky, as the real file is.
func stubBinary(size int, banner string) []byte {
	f := fnv.New64a()
	f.Write([]byte(banner))
	r := rand.New(rand.NewPCG(f.Sum64(), uint64(size)))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	copy(b[0x40:], banner)
	return b
}
