package archetype

import (
	"strings"
	"testing"
)

func TestKernels(t *testing.T) {
	if len(kernels) != len(distros) {
		t.Errorf("%d kernels for %d distros", len(kernels), len(distros))
	}
	for _, d := range distros {
		k, ok := kernels[d.Slug]
		if !ok {
			t.Errorf("%s has no kernel", d.Slug)
			continue
		}
		if k.Release == "" || !strings.HasPrefix(k.Version, "#") || !strings.HasPrefix(k.Builder, "(") {
			t.Errorf("%s kernel = %+v", d.Slug, k)
		}
		if KernelOf(d.Slug) != k {
			t.Errorf("KernelOf(%q) = %+v, want %+v", d.Slug, KernelOf(d.Slug), k)
		}
	}
	for _, slug := range []string{"", "windows", "Debian"} {
		if got := KernelOf(slug); got != kernels["debian"] {
			t.Errorf("KernelOf(%q) = %+v, want Debian's", slug, got)
		}
	}
}
