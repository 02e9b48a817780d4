package archetype

import (
	"crypto/sha256"
	"fmt"
)

// vendorOUIs are the first three bytes of network cards that machines of
// each OS family commonly carry. A decky given its own MAC (macvlan) takes
// one of them: the engine's own choice (02:42:…, a locally administered
// address derived from the IP) would name the container engine to anyone
// on the LAN who reads an ARP table.
var vendorOUIs = map[string][]string{
	OSLinux:    {"00:50:56", "00:25:90", "00:14:22", "00:1b:21"}, // VMware, Supermicro, Dell, Intel
	OSWindows:  {"00:14:22", "3c:d9:2b", "00:1b:21", "00:50:56"}, // Dell, HP, Intel, VMware
	OSBSD:      {"00:25:90", "00:1b:21"},                         // Supermicro, Intel
	OSEmbedded: {"b8:27:eb", "dc:a6:32"},                         // Raspberry Pi
	OSCisco:    {"00:1a:a1", "00:1b:54"},                         // Cisco
}

// MAC returns a hardware address for a decky of OS family os: a vendor
// prefix that suits the family and three bytes derived from key (the decky
// name), so the same decky keeps its address across deployments.
func MAC(os, key string) string {
	ouis := vendorOUIs[OSOrLinux(os).Slug]
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%s:%02x:%02x:%02x", ouis[int(sum[0])%len(ouis)], sum[1], sum[2], sum[3])
}
