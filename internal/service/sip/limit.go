package sip

import "decnet/internal/udplimit"

// defaultLimits let svwar and svcrack run at their default speed (a
// request every few milliseconds in bursts) while a flood is cut short: a
// UDP source is cheap to forge, so every source IP gets a request rate,
// and the server a total rate and a number of sources remembered. The
// busy bounds are on the final INVITE replies being repeated until their
// ACK (from one source and in all); past them a reply is sent once. A
// forged source can then draw only a few replies, each about the size of
// its request.
func defaultLimits() udplimit.Limits {
	return udplimit.Limits{Rate: 50, Burst: 200, GlobalRate: 2000, GlobalBurst: 4000, MaxSources: 4096,
		MaxBusy: 256, MaxBusyPerSource: 4}
}
