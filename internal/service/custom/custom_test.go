package custom

import (
	"context"
	"net"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

func TestRecordsWhatClientsSend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var col testutil.Events
	svc := New("myapp", []int{9999})
	if info := svc.Info(); info.Slug != "myapp" || info.Ports[0].Number != 9999 {
		t.Fatalf("info %+v", info)
	}
	srv, _ := svc.New(service.Config{Emit: &col})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, service.Listeners{TCP: map[int]net.Listener{9999: ln}}); close(done) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("HELLO\r\n"))
	time.Sleep(100 * time.Millisecond)
	c.Write([]byte{0xff, 0x00, 0x01})
	time.Sleep(100 * time.Millisecond)
	c.Close()
	cancel()
	<-done
	var data []map[string]string
	for _, e := range col.OfType("data") {
		data = append(data, e.Fields)
	}
	if len(data) != 2 || data[0]["data"] != "HELLO\r\n" || data[1]["data"] != "ff0001" || data[1]["data_encoding"] != "hex" || data[0]["src_ip"] != "127.0.0.1" {
		t.Fatalf("data events %+v", data)
	}
}
