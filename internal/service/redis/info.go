package redis

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// stats are the counters INFO shows. They start from a baseline that fits
// the fake uptime and grow with what attackers do. Guarded by Server.mu.
type stats struct {
	connections, commands, hits, misses int64
	expired                             int64
	calls                               map[string]*cmdStat
	errors                              map[string]int64 // by error code (ERR, WRONGTYPE, ...)
}

type cmdStat struct{ calls, rejected, failed int64 }

func newStats(h hostFacts) stats {
	days := int64(time.Since(h.start).Hours()/24) + 1
	return stats{
		connections: days*int64(40+h.seed%60) + 3,
		commands:    days*int64(5000+h.seed%9000) + 11,
		hits:        days * int64(1500+h.seed%3000),
		misses:      days * int64(200+h.seed%700),
		expired:     days * int64(30+h.seed%90),
		calls:       map[string]*cmdStat{},
		errors:      map[string]int64{},
	}
}

// count updates the command statistics after a request. rejected is a
// request refused before it ran (lookup, arity, auth); failed one that
// ran and answered an error.
func (s *Server) count(spec *cmdSpec, rejected bool, reply value) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.commands++
	if reply.k == kError {
		code, _, _ := strings.Cut(reply.s, " ")
		s.stats.errors[code]++
	}
	if spec == nil {
		return
	}
	st := s.stats.calls[spec.name]
	if st == nil {
		st = &cmdStat{}
		s.stats.calls[spec.name] = st
	}
	switch {
	case rejected || (reply.k == kError && strings.HasPrefix(reply.s, "NOAUTH")):
		st.rejected++
	case reply.k == kError:
		st.calls++
		st.failed++
	default:
		st.calls++
	}
}

// hit records a key lookup for keyspace_hits / keyspace_misses.
func (s *Server) hit(found bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if found {
		s.stats.hits++
	} else {
		s.stats.misses++
	}
}

var defaultSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"}
var allSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"}

// info renders INFO for the requested section names: none means the
// default set, "all" and "everything" add the per-command statistics, an
// unknown name contributes nothing.
func (s *Server) info(cl *client, names []string) string {
	want := map[string]bool{}
	if len(names) == 0 {
		names = []string{"default"}
	}
	for _, n := range names {
		switch n = strings.ToLower(n); n {
		case "default":
			for _, d := range defaultSections {
				want[d] = true
			}
		case "all", "everything":
			for _, d := range allSections {
				want[d] = true
			}
		default:
			want[n] = true
		}
	}
	var parts []string
	for _, sec := range allSections {
		if want[sec] {
			parts = append(parts, s.section(cl, sec))
		}
	}
	return strings.Join(parts, "\r\n")
}

func (s *Server) section(cl *client, name string) string {
	now := s.now()
	h := s.host
	uptime := int64(now.Sub(h.start).Seconds())
	var b strings.Builder
	title := strings.ToUpper(name[:1]) + name[1:]
	if name == "cpu" {
		title = "CPU"
	}
	b.WriteString("# " + title + "\r\n")
	kv := func(k string, v any) { fmt.Fprintf(&b, "%s:%v\r\n", k, v) }
	s.mu.Lock()
	st := s.stats
	nclients := len(s.clients)
	master := s.master
	save := s.save
	s.mu.Unlock()
	used := 870000 + s.ks.size()
	switch name {
	case "server":
		kv("redis_version", h.version)
		kv("redis_git_sha1", "00000000")
		kv("redis_git_dirty", 0)
		kv("redis_build_id", h.buildID)
		kv("redis_mode", "standalone")
		kv("os", h.os)
		kv("arch_bits", 64)
		kv("monotonic_clock", "POSIX clock_gettime")
		kv("multiplexing_api", "epoll")
		kv("atomicvar_api", "c11-builtin")
		kv("gcc_version", h.gcc)
		kv("process_id", h.pid)
		kv("process_supervised", "systemd")
		kv("run_id", h.runID)
		kv("tcp_port", Port)
		kv("server_time_usec", now.UnixMicro())
		kv("uptime_in_seconds", uptime)
		kv("uptime_in_days", uptime/86400)
		kv("hz", 10)
		kv("configured_hz", 10)
		kv("lru_clock", now.Unix()%(1<<24))
		kv("executable", "/usr/bin/redis-server")
		kv("config_file", "/etc/redis/redis.conf")
		kv("io_threads_active", 0)
	case "clients":
		kv("connected_clients", nclients)
		kv("cluster_connections", 0)
		kv("maxclients", 10000)
		kv("client_recent_max_input_buffer", 20480)
		kv("client_recent_max_output_buffer", 0)
		kv("blocked_clients", 0)
		kv("tracking_clients", 0)
		kv("clients_in_timeout_table", 0)
	case "memory":
		peak := used + 161000 + int(h.seed%90000)
		rss := 9000000 + used + int(h.seed%4000000)
		kv("used_memory", used)
		kv("used_memory_human", humanBytes(used))
		kv("used_memory_rss", rss)
		kv("used_memory_rss_human", humanBytes(rss))
		kv("used_memory_peak", peak)
		kv("used_memory_peak_human", humanBytes(peak))
		kv("used_memory_peak_perc", fmt.Sprintf("%.2f%%", 100*float64(used)/float64(peak)))
		kv("used_memory_overhead", 876112+nclients*20000)
		kv("used_memory_startup", 876112)
		kv("used_memory_dataset", max(used-876112, 0))
		kv("used_memory_dataset_perc", fmt.Sprintf("%.2f%%", 100*float64(max(used-876112, 1))/float64(used)))
		kv("allocator_allocated", used+700000)
		kv("allocator_active", used+1150000)
		kv("allocator_resident", used+3800000)
		kv("total_system_memory", 8323874816)
		kv("total_system_memory_human", "7.75G")
		for _, l := range [][2]string{
			{"used_memory_lua", "31744"}, {"used_memory_vm_eval", "31744"}, {"used_memory_lua_human", "31.00K"},
			{"used_memory_scripts_eval", "0"}, {"number_of_cached_scripts", "0"}, {"number_of_functions", "0"},
			{"number_of_libraries", "0"}, {"used_memory_vm_functions", "32768"}, {"used_memory_vm_total", "64512"},
			{"used_memory_vm_total_human", "63.00K"}, {"used_memory_functions", "184"}, {"used_memory_scripts", "184"},
			{"used_memory_scripts_human", "184B"}, {"maxmemory", s.conf.get("maxmemory")},
			{"maxmemory_human", humanBytes(atoiOr(s.conf.get("maxmemory")))}, {"maxmemory_policy", s.conf.get("maxmemory-policy")},
			{"allocator_frag_ratio", "1.19"}, {"allocator_frag_bytes", "444288"}, {"allocator_rss_ratio", "1.99"},
			{"allocator_rss_bytes", "2691072"}, {"rss_overhead_ratio", "2.39"}, {"rss_overhead_bytes", "7561216"},
			{"mem_fragmentation_ratio", fmt.Sprintf("%.2f", float64(rss)/float64(used))},
			{"mem_fragmentation_bytes", strconv.Itoa(rss - used)}, {"mem_not_counted_for_evict", "0"},
			{"mem_replication_backlog", "0"}, {"mem_total_replication_buffers", "0"}, {"mem_clients_slaves", "0"},
			{"mem_clients_normal", strconv.Itoa(nclients * 22400)}, {"mem_cluster_links", "0"}, {"mem_aof_buffer", "0"},
			{"mem_allocator", "jemalloc-5.3.0"}, {"active_defrag_running", "0"}, {"lazyfree_pending_objects", "0"},
			{"lazyfreed_objects", "0"},
		} {
			kv(l[0], l[1])
		}
	case "persistence":
		bgsave := 0
		if now.Before(save.bgsaveUntil) {
			bgsave = 1
		}
		kv("loading", 0)
		kv("async_loading", 0)
		kv("current_cow_peak", 0)
		kv("current_cow_size", 0)
		kv("current_cow_size_age", 0)
		kv("current_fork_perc", "0.00")
		kv("current_save_keys_processed", 0)
		kv("current_save_keys_total", 0)
		kv("rdb_changes_since_last_save", save.changes)
		kv("rdb_bgsave_in_progress", bgsave)
		kv("rdb_last_save_time", save.last.Unix())
		kv("rdb_last_bgsave_status", "ok")
		kv("rdb_last_bgsave_time_sec", 0)
		kv("rdb_current_bgsave_time_sec", -1)
		kv("rdb_saves", save.saves+int64(uptime/3600))
		kv("rdb_last_cow_size", 421888)
		kv("rdb_last_load_keys_expired", 0)
		kv("rdb_last_load_keys_loaded", 11)
		kv("aof_enabled", boolInt(s.conf.get("appendonly") == "yes"))
		for _, k := range []string{"aof_rewrite_in_progress", "aof_rewrite_scheduled"} {
			kv(k, 0)
		}
		kv("aof_last_rewrite_time_sec", -1)
		kv("aof_current_rewrite_time_sec", -1)
		kv("aof_last_bgrewrite_status", "ok")
		kv("aof_rewrites", 0)
		kv("aof_rewrites_consecutive_failures", 0)
		kv("aof_last_write_status", "ok")
		kv("aof_last_cow_size", 0)
		kv("module_fork_in_progress", 0)
		kv("module_fork_last_cow_size", 0)
	case "stats":
		errs := int64(0)
		for _, n := range st.errors {
			errs += n
		}
		for _, l := range []struct {
			k string
			v any
		}{
			{"total_connections_received", st.connections}, {"total_commands_processed", st.commands},
			{"instantaneous_ops_per_sec", 0}, {"total_net_input_bytes", st.commands * 31},
			{"total_net_output_bytes", st.commands * 412}, {"total_net_repl_input_bytes", 0},
			{"total_net_repl_output_bytes", 0}, {"instantaneous_input_kbps", "0.00"}, {"instantaneous_output_kbps", "0.00"},
			{"instantaneous_input_repl_kbps", "0.00"}, {"instantaneous_output_repl_kbps", "0.00"},
			{"rejected_connections", 0}, {"sync_full", 0}, {"sync_partial_ok", 0}, {"sync_partial_err", 0},
			{"expired_keys", st.expired}, {"expired_stale_perc", "0.00"}, {"expired_time_cap_reached_count", 0},
			{"expire_cycle_cpu_milliseconds", uptime / 900}, {"evicted_keys", 0}, {"evicted_clients", 0},
			{"total_eviction_exceeded_time", 0}, {"current_eviction_exceeded_time", 0},
			{"keyspace_hits", st.hits}, {"keyspace_misses", st.misses}, {"pubsub_channels", 0},
			{"pubsub_patterns", 0}, {"pubsubshard_channels", 0}, {"latest_fork_usec", 312},
			{"total_forks", save.saves + int64(uptime/3600)}, {"migrate_cached_sockets", 0},
			{"slave_expires_tracked_keys", 0}, {"active_defrag_hits", 0}, {"active_defrag_misses", 0},
			{"active_defrag_key_hits", 0}, {"active_defrag_key_misses", 0}, {"total_active_defrag_time", 0},
			{"current_active_defrag_time", 0}, {"tracking_total_keys", 0}, {"tracking_total_items", 0},
			{"tracking_total_prefixes", 0}, {"unexpected_error_replies", 0}, {"total_error_replies", errs},
			{"dump_payload_sanitizations", 0}, {"total_reads_processed", st.commands + st.connections},
			{"total_writes_processed", st.commands}, {"io_threaded_reads_processed", 0},
			{"io_threaded_writes_processed", 0}, {"reply_buffer_shrinks", st.connections / 2}, {"reply_buffer_expands", 0},
		} {
			kv(l.k, l.v)
		}
	case "replication":
		if master == "" {
			kv("role", "master")
			kv("connected_slaves", 0)
		} else {
			host, port, _ := strings.Cut(master, " ")
			kv("role", "slave")
			kv("master_host", host)
			kv("master_port", port)
			kv("master_link_status", "down")
			kv("master_last_io_seconds_ago", -1)
			kv("master_sync_in_progress", 0)
			kv("slave_read_repl_offset", 0)
			kv("slave_repl_offset", 0)
			kv("master_link_down_since_seconds", -1)
			kv("slave_priority", 100)
			kv("slave_read_only", 1)
			kv("replica_announced", 1)
			kv("connected_slaves", 0)
		}
		kv("master_failover_state", "no-failover")
		kv("master_replid", h.replID)
		kv("master_replid2", strings.Repeat("0", 40))
		kv("master_repl_offset", 0)
		kv("second_repl_offset", -1)
		kv("repl_backlog_active", 0)
		kv("repl_backlog_size", 1048576)
		kv("repl_backlog_first_byte_offset", 0)
		kv("repl_backlog_histlen", 0)
	case "cpu":
		sys := float64(uptime) * 0.00061
		usr := float64(uptime) * 0.00043
		kv("used_cpu_sys", fmt.Sprintf("%.6f", sys))
		kv("used_cpu_user", fmt.Sprintf("%.6f", usr))
		kv("used_cpu_sys_children", fmt.Sprintf("%.6f", sys/90))
		kv("used_cpu_user_children", fmt.Sprintf("%.6f", usr/40))
		kv("used_cpu_sys_main_thread", fmt.Sprintf("%.6f", sys*0.97))
		kv("used_cpu_user_main_thread", fmt.Sprintf("%.6f", usr*0.98))
	case "commandstats":
		for _, n := range sortedKeys(st.calls) {
			c := st.calls[n]
			usec := c.calls * 3
			per := 0.0
			if c.calls > 0 {
				per = float64(usec) / float64(c.calls)
			}
			kv("cmdstat_"+n, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d", c.calls, usec, per, c.rejected, c.failed))
		}
	case "errorstats":
		for _, code := range sortedKeys(st.errors) {
			kv("errorstat_"+code, fmt.Sprintf("count=%d", st.errors[code]))
		}
	case "latencystats":
		for _, n := range sortedKeys(st.calls) {
			if st.calls[n].calls > 0 {
				kv("latency_percentiles_usec_"+n, "p50=1.003,p99=3.007,p99.9=3.007")
			}
		}
	case "cluster":
		kv("cluster_enabled", 0)
	case "keyspace":
		for _, d := range s.ks.stats() {
			kv(fmt.Sprintf("db%d", d.db), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=%d", d.keys, d.expires, d.avgTTL))
		}
	}
	return b.String()
}

// sortedKeys gives statistics a stable order. Redis lists them in its hash
// order, which no client relies on.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func atoiOr(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// humanBytes is Redis's bytesToHuman.
func humanBytes(n int) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.Itoa(n) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", f/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", f/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", f/(1<<30))
	}
	return fmt.Sprintf("%.2fT", f/(1<<40))
}
