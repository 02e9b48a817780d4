package conpot

import (
	"testing"

	"decnet/internal/service"
)

// TestPersonaKeys decodes the persona keys as the fleet configuration
// does and rejects unknown values.
func TestPersonaKeys(t *testing.T) {
	info := Service{}.Info()
	p, err := service.NewPersona(info, map[string]string{"device": "s7-1200", "site": "substation"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*Persona); got.Device != DeviceS71200 || got.Site != SiteSubstation {
		t.Errorf("decoded %+v", got)
	}
	for _, keys := range []map[string]string{{"device": "s7-200"}, {"site": "Technodrome"}} {
		if _, err := service.NewPersona(info, keys); err == nil {
			t.Errorf("%v accepted", keys)
		}
	}
}

// TestIdentityPerDecky checks that deckies differ in every identifier
// while one decky keeps its own across restarts, and that no value is
// the upstream conpot template's.
func TestIdentityPerDecky(t *testing.T) {
	for _, dev := range []string{DeviceM340, DeviceS71200} {
		p := &Persona{Device: dev, Site: SiteWater}
		seen := map[string]bool{}
		macs := map[string]bool{}
		for i := range 20 {
			name := "plc-" + string(rune('a'+i))
			id := newIdentity(name, name, p)
			if again := newIdentity(name, name, p); again.serial != id.serial || again.mac.String() != id.mac.String() {
				t.Errorf("%s: identity not stable", name)
			}
			if seen[id.serial] || macs[id.mac.String()] {
				t.Errorf("%s %s: serial %s or MAC %s repeated", dev, name, id.serial, id.mac)
			}
			seen[id.serial], macs[id.mac.String()] = true, true
			for _, tell := range []string{"88111222", "Technodrome", "CP 443-1 EX40", "S7-200", "Mouser Factory"} {
				for _, v := range []string{id.serial, id.station, id.plant, id.model, id.product, id.moduleName} {
					if v == tell {
						t.Errorf("conpot default %q", tell)
					}
				}
			}
		}
	}
}
