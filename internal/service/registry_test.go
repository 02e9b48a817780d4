package service

import (
	"errors"
	"testing"
)

type fakeService struct{ info Info }

func (f fakeService) Info() Info                 { return f.info }
func (f fakeService) New(Config) (Server, error) { return nil, errors.New("not servable") }

func TestRegisterCustom(t *testing.T) {
	good := fakeService{Info{Slug: "zz-test-svc", Ports: []Port{{Number: 9999, Proto: TCP}}}}
	if err := RegisterCustom(good); err != nil {
		t.Fatal(err)
	}
	if err := RegisterCustom(good); err == nil {
		t.Error("duplicate slug accepted")
	}
	if s, err := Lookup("zz-test-svc"); err != nil || s.Info().Slug != "zz-test-svc" {
		t.Errorf("Lookup = %v, %v", s, err)
	}
	if _, err := Lookup("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Lookup(nope) err = %v", err)
	}
	for _, bad := range []Info{{Slug: "Bad Slug"}, {Slug: "x", Ports: []Port{{Number: 0, Proto: TCP}}}, {Slug: "y", Ports: []Port{{Number: 1, Proto: "sctp"}}}} {
		if err := RegisterCustom(fakeService{bad}); err == nil {
			t.Errorf("RegisterCustom(%+v) accepted", bad)
		}
	}
	all := All()
	for i := 1; i < len(all); i++ {
		if all[i-1].Info().Slug >= all[i].Info().Slug {
			t.Fatal("All is not sorted")
		}
	}
}

func TestFleetSingletonIsListedButNotForDeckies(t *testing.T) {
	if err := RegisterCustom(fakeService{Info{Slug: "zz-singleton", FleetSingleton: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup("zz-singleton"); err != nil {
		t.Errorf("Lookup: %v", err)
	}
	if _, err := LookupDecky("zz-singleton"); !errors.Is(err, ErrFleetSingleton) {
		t.Errorf("LookupDecky err = %v, want ErrFleetSingleton", err)
	}
	if _, err := LookupDecky("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("LookupDecky(nope) err = %v", err)
	}
	listed := func(all []Service) bool {
		for _, s := range all {
			if s.Info().Slug == "zz-singleton" {
				return true
			}
		}
		return false
	}
	if !listed(All()) || listed(AllDecky()) {
		t.Error("a fleet singleton must be in All and not in AllDecky")
	}
}
