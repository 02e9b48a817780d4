package archetype

// Distro is the Linux distribution a decky claims: the base image of its
// container (docker runtime) and the style of its hostname.
type Distro struct {
	Slug        string `json:"slug"`
	DisplayName string `json:"display_name"`
	// Image is the base container image.
	Image string `json:"image"`
	// BuildBase is the image service containers build on (apt-based in the
	// original, hence Debian for the non-apt distros).
	BuildBase     string        `json:"build_base"`
	HostnameStyle HostnameStyle `json:"hostname_style"`
}

// distros keeps the original's nine in its order: "all distros cycled" walks
// them in this order.
var distros = []Distro{
	{"debian", "Debian 12 (Bookworm)", "debian:bookworm-slim", "debian:bookworm-slim", StyleGeneric},
	{"ubuntu22", "Ubuntu 22.04 LTS (Jammy)", "ubuntu:22.04", "ubuntu:22.04", StyleGeneric},
	{"ubuntu20", "Ubuntu 20.04 LTS (Focal)", "ubuntu:20.04", "ubuntu:20.04", StyleGeneric},
	{"rocky9", "Rocky Linux 9", "rockylinux:9-minimal", "debian:bookworm-slim", StyleRHEL},
	{"centos7", "CentOS 7", "centos:7", "debian:bookworm-slim", StyleRHEL},
	{"alpine", "Alpine Linux 3.19", "alpine:3.19", "debian:bookworm-slim", StyleMinimal},
	{"fedora", "Fedora 39", "fedora:39", "debian:bookworm-slim", StyleRHEL},
	{"kali", "Kali Linux (Rolling)", "kalilinux/kali-rolling", "kalilinux/kali-rolling", StyleRolling},
	{"arch", "Arch Linux", "archlinux:latest", "debian:bookworm-slim", StyleRolling},
}

// AllDistros returns every distro, in catalogue order.
func AllDistros() []Distro { return append([]Distro(nil), distros...) }

// LookupDistro returns the distro with that slug; the error lists the valid ones.
func LookupDistro(slug string) (Distro, error) {
	for _, d := range distros {
		if d.Slug == slug {
			return d, nil
		}
	}
	slugs := make([]string, len(distros))
	for i, d := range distros {
		slugs[i] = d.Slug
	}
	return Distro{}, unknown("distro", slug, slugs)
}
