package archetype

// Kernel is the Linux kernel a distro's deckies claim to run. Every service
// that shows it (the shell's uname, motd and /proc/version, redis INFO's
// os: line) reads it from here: an attacker who compares what two services
// of one decky say must find one machine.
type Kernel struct {
	// Release is what uname -r prints.
	Release string
	// Version is what uname -v prints.
	Version string
	// Builder is the part of /proc/version between the release and the
	// version: who built the kernel, with which compiler and linker.
	Builder string
}

// kernels are the stock kernels of each distro's current release, with the
// compilers their build logs name.
var kernels = map[string]Kernel{
	"debian": {"6.1.0-28-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)",
		"(debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40)"},
	"ubuntu22": {"5.15.0-126-generic", "#136-Ubuntu SMP Wed Nov 6 10:38:22 UTC 2024",
		"(buildd@lcy02-amd64-062) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38)"},
	"ubuntu20": {"5.4.0-200-generic", "#220-Ubuntu SMP Fri Sep 27 13:19:16 UTC 2024",
		"(buildd@lcy02-amd64-106) (gcc version 9.4.0 (Ubuntu 9.4.0-1ubuntu1~20.04.2))"},
	"rocky9": {"5.14.0-503.14.1.el9_5.x86_64", "#1 SMP PREEMPT_DYNAMIC Fri Nov 15 12:04:32 UTC 2024",
		"(mockbuild@iad1-prod-build001.bld.equ.rockylinux.org) (gcc (GCC) 11.5.0 20240719 (Red Hat 11.5.0-2), GNU ld version 2.35.2-54.el9)"},
	"centos7": {"3.10.0-1160.119.1.el7.x86_64", "#1 SMP Tue Jun 4 14:43:51 UTC 2024",
		"(mockbuild@kbuilder.bsys.centos.org) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-44) (GCC) )"},
	"alpine": {"6.6.58-0-lts", "#1-Alpine SMP PREEMPT_DYNAMIC Tue, 22 Oct 2024 11:09:08 +0000",
		"(buildozer@build-3-19-x86_64) (gcc (Alpine 13.2.1_git20231014) 13.2.1 20231014, GNU ld (GNU Binutils) 2.41)"},
	"fedora": {"6.11.9-100.fc39.x86_64", "#1 SMP PREEMPT_DYNAMIC Sun Nov 17 18:52:19 UTC 2024",
		"(mockbuild@a6ad1ae0d13a4fa5b0e5b1a8b0c57c02) (gcc (GCC) 13.3.1 20240913 (Red Hat 13.3.1-3), GNU ld version 2.40-14.fc39)"},
	"kali": {"6.12.25-amd64", "#1 SMP PREEMPT_DYNAMIC Kali 6.12.25-1kali1 (2025-04-30)",
		"(devel@kali.org) (x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0, GNU ld (GNU Binutils for Debian) 2.44)"},
	"arch": {"6.14.6-arch1-1", "#1 SMP PREEMPT_DYNAMIC Fri, 09 May 2025 17:36:18 +0000",
		"(linux@archlinux) (gcc (GCC) 15.1.1 20250425, GNU ld (GNU Binutils) 2.44.0)"},
}

// KernelOf returns the kernel of the distro with that slug. An unknown or
// empty slug gets Debian's, as every service treats it as Debian.
func KernelOf(slug string) Kernel {
	if k, ok := kernels[slug]; ok {
		return k
	}
	return kernels["debian"]
}
