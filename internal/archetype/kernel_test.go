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

func TestMAC(t *testing.T) {
	for _, f := range AllOS() {
		a, b := MAC(f.Slug, "decky-01"), MAC(f.Slug, "decky-01")
		if a != b || len(a) != 17 {
			t.Fatalf("%s: MAC %q then %q, want the same 17-character address", f.Slug, a, b)
		}
		if first := a[:2]; first[1] == '2' || first[1] == '6' || first[1] == 'a' || first[1] == 'e' {
			t.Fatalf("%s: %s is locally administered, not a vendor address", f.Slug, a)
		}
		found := false
		for _, oui := range vendorOUIs[f.Slug] {
			found = found || a[:8] == oui
		}
		if !found {
			t.Fatalf("%s: %s has no %s vendor prefix", f.Slug, a, f.Slug)
		}
	}
	if MAC("linux", "a") == MAC("linux", "b") && MAC("linux", "c") == MAC("linux", "d") {
		t.Fatal("different deckies share addresses")
	}
}
