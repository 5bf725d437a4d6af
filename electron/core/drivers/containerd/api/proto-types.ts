/**
 * The message types NovaCron exchanges with containerd 1.6+, written from containerd's
 * public API documentation: only the fields we read or set. Field numbers are the wire
 * contract and must match containerd's; names follow its .proto files so a reader can
 * compare. Unknown fields containerd sends are skipped by the decoder.
 */
export const WELL_KNOWN_PROTO = String.raw`
syntax = "proto3";
package google.protobuf;
message Any { string type_url = 1; bytes value = 2; }
message Empty {}
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message FieldMask { repeated string paths = 1; }
`;

export const TYPES_PROTO = String.raw`
syntax = "proto3";
package containerd.types;
message Mount { string type = 1; string source = 2; string target = 3; repeated string options = 4; }
message Descriptor { string media_type = 1; string digest = 2; int64 size = 3; map<string, string> annotations = 5; }
message Metric { google.protobuf.Timestamp timestamp = 1; string id = 2; google.protobuf.Any data = 3; }
`;

export const TASK_TYPES_PROTO = String.raw`
syntax = "proto3";
package containerd.v1.types;
enum Status { UNKNOWN = 0; CREATED = 1; RUNNING = 2; STOPPED = 3; PAUSED = 4; PAUSING = 5; }
message Process {
  string container_id = 1; string id = 2; uint32 pid = 3; Status status = 4;
  string stdin = 5; string stdout = 6; string stderr = 7; bool terminal = 8;
  uint32 exit_status = 9; google.protobuf.Timestamp exited_at = 10;
}
`;

/** The runc shim's options: binary_name is how a runc-compatible runtime (runsc) is chosen. */
export const RUNC_OPTIONS_PROTO = String.raw`
syntax = "proto3";
package containerd.runc.v1;
message Options { bool no_pivot_root = 1; string binary_name = 6; string root = 7; bool systemd_cgroup = 9; }
`;

/** What the event stream carries, per topic: /tasks/exit → TaskExit and so on. */
export const EVENTS_PROTO = String.raw`
syntax = "proto3";
package containerd.events;
message TaskCreate { string container_id = 1; uint32 pid = 6; }
message TaskStart { string container_id = 1; uint32 pid = 2; }
message TaskDelete { string container_id = 1; uint32 pid = 2; uint32 exit_status = 3; google.protobuf.Timestamp exited_at = 4; string id = 5; }
message TaskExit { string container_id = 1; string id = 2; uint32 pid = 3; uint32 exit_status = 4; google.protobuf.Timestamp exited_at = 5; }
message TaskOOM { string container_id = 1; }
message TaskPaused { string container_id = 1; }
message TaskResumed { string container_id = 1; }
message TaskExecAdded { string container_id = 1; string exec_id = 2; }
message ContainerCreate { string id = 1; string image = 2; }
message ContainerUpdate { string id = 1; string image = 2; map<string, string> labels = 3; string snapshot_key = 4; }
message ContainerDelete { string id = 1; }
`;

/** Task metrics as the cgroup v1 and v2 shims report them; the Any's type_url says which. */
export const CGROUPS_PROTO = String.raw`
syntax = "proto3";
package io.containerd.cgroups.v1;
message Metrics { PidsStat pids = 2; CPUStat cpu = 3; MemoryStat memory = 4; BlkIOStat blkio = 5; repeated NetworkStat network = 7; MemoryOomControl memory_oom_control = 9; }
message PidsStat { uint64 current = 1; uint64 limit = 2; }
message CPUStat { CPUUsage usage = 1; }
message CPUUsage { uint64 total = 1; uint64 kernel = 2; uint64 user = 3; }
message MemoryStat { uint64 cache = 1; uint64 rss = 2; uint64 total_inactive_file = 30; MemoryEntry usage = 33; }
message MemoryEntry { uint64 limit = 1; uint64 usage = 2; uint64 max = 3; uint64 failcnt = 4; }
message MemoryOomControl { uint64 oom_kill_disable = 1; uint64 under_oom = 2; uint64 oom_kill = 3; }
message BlkIOStat { repeated BlkIOEntry io_service_bytes_recursive = 1; }
message BlkIOEntry { string op = 1; string device = 2; uint64 major = 3; uint64 minor = 4; uint64 value = 5; }
message NetworkStat { string name = 1; uint64 rx_bytes = 2; uint64 tx_bytes = 6; }
`;

export const CGROUPS2_PROTO = String.raw`
syntax = "proto3";
package io.containerd.cgroups.v2;
message Metrics { PidsStat pids = 1; CPUStat cpu = 2; MemoryStat memory = 4; IOStat io = 6; MemoryEvents memory_events = 8; }
message PidsStat { uint64 current = 1; uint64 limit = 2; }
message CPUStat { uint64 usage_usec = 1; uint64 user_usec = 2; uint64 system_usec = 3; }
message MemoryStat { uint64 inactive_file = 13; uint64 usage = 32; uint64 usage_limit = 33; }
message IOStat { repeated IOEntry usage = 1; }
message IOEntry { uint64 major = 1; uint64 minor = 2; uint64 rbytes = 3; uint64 wbytes = 4; }
message MemoryEvents { uint64 oom = 4; uint64 oom_kill = 5; }
`;
