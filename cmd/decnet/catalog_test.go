package main

import (
	"bytes"
	"regexp"
	"testing"
)

func TestServicesListsTheFleetSingleton(t *testing.T) {
	var out bytes.Buffer
	cmd := servicesCmd()
	cmd.SetOut(&out)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^sniffer\s+- \(one per fleet\)\s+-\s+passive LAN sniffer`),
		regexp.MustCompile(`(?m)^ssh\s+22/tcp\s`),
		regexp.MustCompile(`(?m)^https\s+443/tcp\+tls\s`),
	} {
		if !want.Match(out.Bytes()) {
			t.Errorf("decnet services does not match %s:\n%s", want, out.String())
		}
	}
}
