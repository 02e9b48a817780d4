package conpot

import (
	"fmt"
	"strconv"

	"decnet/internal/event"
)

// Read Device Identification (FC 43, MEI type 14).
const (
	meiDeviceID = 0x0e
	// readBasic .. readIndividual are the Read Device ID codes.
	readBasic      = 1
	readRegular    = 2
	readExtended   = 3
	readIndividual = 4
	// conformity: regular identification, stream and individual access.
	conformity = 0x82
)

// deviceObjects are the identification objects in id order: basic 0-2,
// regular 3-6.
func (s *Server) deviceObjects() []string {
	return []string{
		s.id.vendor,                         // VendorName
		s.id.product,                        // ProductCode
		s.id.firmware,                       // MajorMinorRevision
		"http://www.schneider-electric.com", // VendorUrl
		s.id.productName,                    // ProductName
		s.id.model,                          // ModelName
		s.id.station,                        // UserApplicationName
	}
}

// encapsulated answers FC 43; only MEI 14 exists on the device.
func (s *Server) encapsulated(data []byte, f map[string]string) ([]byte, byte) {
	if len(data) < 1 || data[0] != meiDeviceID {
		if len(data) > 0 {
			f["mei_type"] = strconv.Itoa(int(data[0]))
		}
		return nil, exIllegalFunction
	}
	if len(data) != 3 {
		return nil, exIllegalValue
	}
	code, obj := data[1], int(data[2])
	f["read_code"], f["object_id"] = strconv.Itoa(int(code)), strconv.Itoa(obj)
	objs := s.deviceObjects()
	var first, last int
	switch code {
	case readBasic:
		first, last = 0, 2
	case readRegular, readExtended:
		// No extended objects: an extended read streams the regular ones.
		first, last = 0, len(objs)-1
	case readIndividual:
		if obj >= len(objs) {
			return nil, exIllegalAddress
		}
		first, last = obj, obj
	default:
		return nil, exIllegalValue
	}
	if code != readIndividual {
		if obj < first || obj > last {
			obj = first // an unknown object restarts the stream
		}
		first = obj
	}
	resp := []byte{fcEncapsulated, meiDeviceID, code, conformity, 0x00, 0x00, byte(last - first + 1)}
	for i := first; i <= last; i++ {
		resp = append(resp, byte(i), byte(len(objs[i])))
		resp = append(resp, objs[i]...)
	}
	f["objects"] = event.Clip(fmt.Sprintf("%q", objs[first:last+1]), 512)
	return resp, 0
}

// reportServerID answers FC 17: server id byte, run indicator (on), the
// product code.
func (s *Server) reportServerID(data []byte) ([]byte, byte) {
	if len(data) != 0 {
		return nil, exIllegalValue
	}
	body := append([]byte{0xfa, 0xff}, s.id.product...)
	return append([]byte{fcReportServerID, byte(len(body))}, body...), 0
}

// umasFunctions names UMAS function codes (Schneider's engineering
// protocol inside FC 90); those that stop, start or reprogram the PLC
// are what an ICS attack sends.
var umasFunctions = map[byte]struct {
	name     string
	critical bool
}{
	0x01: {"init_comm", false}, 0x02: {"read_id", false}, 0x03: {"read_project_info", false},
	0x04: {"read_plc_info", false}, 0x06: {"read_card_info", false}, 0x0a: {"repeat", false},
	0x10: {"take_plc_reservation", true}, 0x11: {"release_plc_reservation", false}, 0x12: {"keep_alive", false},
	0x20: {"read_memory_block", false}, 0x22: {"read_variables", false}, 0x23: {"write_variables", true},
	0x24: {"read_coils_registers", false}, 0x25: {"write_coils_registers", true},
	0x30: {"initialize_upload", false}, 0x31: {"upload_block", false}, 0x32: {"end_strategy_upload", false},
	0x33: {"initialize_download", true}, 0x34: {"download_block", true}, 0x35: {"end_strategy_download", true},
	0x39: {"read_eth_master_data", false}, 0x40: {"start_plc", true}, 0x41: {"stop_plc", true},
	0x50: {"monitor_plc", false}, 0x58: {"check_plc", false}, 0x70: {"read_io_object", false},
	0x71: {"write_io_object", true}, 0x73: {"get_status_module", false},
}

// umas records a UMAS request and refuses it as the PLC refuses a client
// that holds no reservation: status 0xFD (error).
func (s *Server) umas(data []byte, out *modbusOutcome) ([]byte, byte) {
	if len(data) < 2 {
		return nil, exIllegalValue
	}
	pair, code := data[0], data[1]
	out.fields["umas_code"] = fmt.Sprintf("0x%02x", code)
	if fn, ok := umasFunctions[code]; ok {
		out.fields["umas_function"] = fn.name
		if fn.critical {
			out.sev = event.Critical
		}
	}
	out.fields["data"] = hexHead(data[2:])
	return []byte{fcUMAS, pair, 0xfd, 0x00, 0x00}, 0
}
