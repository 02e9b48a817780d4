package ldap

import (
	"strconv"
	"strings"
	"time"
)

// OIDs the products name.
const (
	oidStartTLS     = "1.3.6.1.4.1.1466.20037"
	oidWhoAmI       = "1.3.6.1.4.1.4203.1.11.3"
	oidPasswdModify = "1.3.6.1.4.1.4203.1.11.1"
)

// rootDSE returns the server's root DSE as of now.
func (s site) rootDSE(now time.Time, highestUSN int) *entry {
	if s.ad {
		return s.adRootDSE(now, highestUSN)
	}
	return s.slapdRootDSE()
}

// slapdRootDSE is slapd 2.5's, measured (real-products.md §5): only
// objectClass is a user attribute; the rest come with "+". slapd lists
// StartTLS first among its extensions once TLS is configured.
func (s site) slapdRootDSE() *entry {
	ext := []string{oidPasswdModify, oidWhoAmI, "1.3.6.1.1.8", "1.3.6.1.1.21.3", "1.3.6.1.1.21.1"}
	if s.startTLS {
		ext = append([]string{oidStartTLS}, ext...)
	}
	return &entry{attrs: []attr{
		a("objectClass", "top", "OpenLDAProotDSE"),
		op("structuralObjectClass", "OpenLDAProotDSE"),
		op("configContext", "cn=config"),
		op("namingContexts", s.base),
		op("supportedControl", "2.16.840.1.113730.3.4.18", "2.16.840.1.113730.3.4.2", "1.3.6.1.4.1.4203.1.10.1",
			"1.3.6.1.1.22", "1.2.840.113556.1.4.319", "1.2.826.0.1.3344810.2.3", "1.3.6.1.1.13.2", "1.3.6.1.1.13.1",
			"1.3.6.1.1.12"),
		op("supportedExtension", ext...),
		op("supportedFeatures", "1.3.6.1.1.14", "1.3.6.1.4.1.4203.1.5.1", "1.3.6.1.4.1.4203.1.5.2",
			"1.3.6.1.4.1.4203.1.5.3", "1.3.6.1.4.1.4203.1.5.4", "1.3.6.1.4.1.4203.1.5.5"),
		op("supportedLDAPVersion", "3"),
		op("supportedSASLMechanisms", s.sasl...),
		op("entryDN", ""),
		op("subschemaSubentry", "cn=Subschema"),
	}}
}

// adRootDSE is a Windows Server 2019 domain controller's, in the order AD
// returns it (nmap's ldap-rootdse sample, with the 2019 additions):
// every attribute comes back for an empty attribute list.
func (s site) adRootDSE(now time.Time, highestUSN int) *entry {
	config := "CN=Configuration," + s.base
	server := "CN=" + s.host + ",CN=Servers,CN=" + s.adSite + ",CN=Sites," + config
	return &entry{attrs: []attr{
		a("currentTime", now.UTC().Format("20060102150405.0Z")),
		a("subschemaSubentry", "CN=Aggregate,CN=Schema,"+config),
		a("dsServiceName", "CN=NTDS Settings,"+server),
		a("namingContexts", s.base, config, "CN=Schema,"+config, "DC=DomainDnsZones,"+s.base, "DC=ForestDnsZones,"+s.base),
		a("defaultNamingContext", s.base),
		a("rootDomainNamingContext", s.base),
		a("configurationNamingContext", config),
		a("schemaNamingContext", "CN=Schema,"+config),
		a("serverName", server),
		a("supportedControl", adControls...),
		a("supportedLDAPVersion", "3", "2"),
		a("supportedLDAPPolicies", "MaxPoolThreads", "MaxPercentDirSyncRequests", "MaxDatagramRecv", "MaxReceiveBuffer",
			"InitRecvTimeout", "MaxConnections", "MaxConnIdleTime", "MaxPageSize", "MaxBatchReturnMessages",
			"MaxQueryDuration", "MaxDirSyncDuration", "MaxTempTableSize", "MaxResultSetSize", "MinResultSets",
			"MaxResultSetsPerConn", "MaxNotificationPerConn", "MaxValRange", "MaxValRangeTransitive",
			"ThreadMemoryLimit", "SystemMemoryLimitPercent"),
		a("highestCommittedUSN", strconv.Itoa(highestUSN)),
		a("supportedSASLMechanisms", s.sasl...),
		a("dnsHostName", s.dnsHost()),
		a("ldapServiceName", s.domain+":"+strings.ToLower(s.host)+"$@"+strings.ToUpper(s.domain)),
		a("supportedCapabilities", "1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670", "1.2.840.113556.1.4.1791",
			"1.2.840.113556.1.4.1935", "1.2.840.113556.1.4.2080", "1.2.840.113556.1.4.2237"),
		a("isSynchronized", "TRUE"),
		a("isGlobalCatalogReady", "TRUE"),
		a("domainFunctionality", "7"),
		a("forestFunctionality", "7"),
		a("domainControllerFunctionality", "7"),
	}}
}

// adControls are a Server 2019 DC's supportedControl values.
var adControls = []string{
	"1.2.840.113556.1.4.319", "1.2.840.113556.1.4.801", "1.2.840.113556.1.4.473", "1.2.840.113556.1.4.528",
	"1.2.840.113556.1.4.417", "1.2.840.113556.1.4.619", "1.2.840.113556.1.4.841", "1.2.840.113556.1.4.529",
	"1.2.840.113556.1.4.805", "1.2.840.113556.1.4.521", "1.2.840.113556.1.4.970", "1.2.840.113556.1.4.1338",
	"1.2.840.113556.1.4.474", "1.2.840.113556.1.4.1339", "1.2.840.113556.1.4.1340", "1.2.840.113556.1.4.1413",
	"2.16.840.1.113730.3.4.9", "2.16.840.1.113730.3.4.10", "1.2.840.113556.1.4.1504", "1.2.840.113556.1.4.1852",
	"1.2.840.113556.1.4.802", "1.2.840.113556.1.4.1907", "1.2.840.113556.1.4.1948", "1.2.840.113556.1.4.1974",
	"1.2.840.113556.1.4.1341", "1.2.840.113556.1.4.2026", "1.2.840.113556.1.4.2064", "1.2.840.113556.1.4.2065",
	"1.2.840.113556.1.4.2066", "1.2.840.113556.1.4.2090", "1.2.840.113556.1.4.2205", "1.2.840.113556.1.4.2204",
	"1.2.840.113556.1.4.2206", "1.2.840.113556.1.4.2211", "1.2.840.113556.1.4.2239", "1.2.840.113556.1.4.2255",
	"1.2.840.113556.1.4.2256", "1.2.840.113556.1.4.2309",
}
