/**
 * The containerd services NovaCron calls, as a minimal subset of containerd's API
 * (services/<name>/v1/*.proto): the RPCs we use and the fields we need. See
 * proto-types.ts for the shared message types.
 */
export const VERSION_PROTO = String.raw`
syntax = "proto3";
package containerd.services.version.v1;
service Version { rpc Version(google.protobuf.Empty) returns (VersionResponse); }
message VersionResponse { string version = 1; string revision = 2; }
`;

export const NAMESPACES_PROTO = String.raw`
syntax = "proto3";
package containerd.services.namespaces.v1;
service Namespaces {
  rpc List(ListNamespacesRequest) returns (ListNamespacesResponse);
  rpc Create(CreateNamespaceRequest) returns (CreateNamespaceResponse);
  rpc Delete(DeleteNamespaceRequest) returns (google.protobuf.Empty);
}
message Namespace { string name = 1; map<string, string> labels = 2; }
message ListNamespacesRequest { string filter = 1; }
message ListNamespacesResponse { repeated Namespace namespaces = 1; }
message CreateNamespaceRequest { Namespace namespace = 1; }
message CreateNamespaceResponse { Namespace namespace = 1; }
message DeleteNamespaceRequest { string name = 1; }
`;

export const IMAGES_PROTO = String.raw`
syntax = "proto3";
package containerd.services.images.v1;
service Images {
  rpc Get(GetImageRequest) returns (GetImageResponse);
  rpc List(ListImagesRequest) returns (ListImagesResponse);
  rpc Create(CreateImageRequest) returns (CreateImageResponse);
  rpc Update(UpdateImageRequest) returns (UpdateImageResponse);
  rpc Delete(DeleteImageRequest) returns (google.protobuf.Empty);
}
message Image {
  string name = 1; map<string, string> labels = 2; containerd.types.Descriptor target = 3;
  google.protobuf.Timestamp created_at = 7; google.protobuf.Timestamp updated_at = 8;
}
message GetImageRequest { string name = 1; }
message GetImageResponse { Image image = 1; }
message ListImagesRequest { repeated string filters = 1; }
message ListImagesResponse { repeated Image images = 1; }
message CreateImageRequest { Image image = 1; }
message CreateImageResponse { Image image = 1; }
message UpdateImageRequest { Image image = 1; google.protobuf.FieldMask update_mask = 2; }
message UpdateImageResponse { Image image = 1; }
message DeleteImageRequest { string name = 1; bool sync = 2; }
`;

export const CONTENT_PROTO = String.raw`
syntax = "proto3";
package containerd.services.content.v1;
service Content {
  rpc Info(InfoRequest) returns (InfoResponse);
  rpc Update(UpdateRequest) returns (UpdateResponse);
  rpc Read(ReadContentRequest) returns (stream ReadContentResponse);
  rpc Write(stream WriteContentRequest) returns (stream WriteContentResponse);
  rpc Abort(AbortRequest) returns (google.protobuf.Empty);
}
message Info {
  string digest = 1; int64 size = 2; google.protobuf.Timestamp created_at = 3;
  google.protobuf.Timestamp updated_at = 4; map<string, string> labels = 5;
}
message InfoRequest { string digest = 1; }
message InfoResponse { Info info = 1; }
message UpdateRequest { Info info = 1; google.protobuf.FieldMask update_mask = 2; }
message UpdateResponse { Info info = 1; }
message ReadContentRequest { string digest = 1; int64 offset = 2; int64 size = 3; }
message ReadContentResponse { int64 offset = 1; bytes data = 2; }
enum WriteAction { STAT = 0; WRITE = 1; COMMIT = 2; }
message WriteContentRequest {
  WriteAction action = 1; string ref = 2; int64 total = 3; string expected = 4;
  int64 offset = 5; bytes data = 6; map<string, string> labels = 7;
}
message WriteContentResponse { WriteAction action = 1; int64 offset = 4; int64 total = 5; string digest = 6; }
message AbortRequest { string ref = 1; }
`;

export const CONTAINERS_PROTO = String.raw`
syntax = "proto3";
package containerd.services.containers.v1;
service Containers {
  rpc Get(GetContainerRequest) returns (GetContainerResponse);
  rpc List(ListContainersRequest) returns (ListContainersResponse);
  rpc Create(CreateContainerRequest) returns (CreateContainerResponse);
  rpc Update(UpdateContainerRequest) returns (UpdateContainerResponse);
  rpc Delete(DeleteContainerRequest) returns (google.protobuf.Empty);
}
message Container {
  message Runtime { string name = 1; google.protobuf.Any options = 2; }
  string id = 1; map<string, string> labels = 2; string image = 3; Runtime runtime = 4;
  google.protobuf.Any spec = 5; string snapshotter = 6; string snapshot_key = 7;
  google.protobuf.Timestamp created_at = 8; google.protobuf.Timestamp updated_at = 9;
  map<string, google.protobuf.Any> extensions = 10;
}
message GetContainerRequest { string id = 1; }
message GetContainerResponse { Container container = 1; }
message ListContainersRequest { repeated string filters = 1; }
message ListContainersResponse { repeated Container containers = 1; }
message CreateContainerRequest { Container container = 1; }
message CreateContainerResponse { Container container = 1; }
message UpdateContainerRequest { Container container = 1; google.protobuf.FieldMask update_mask = 2; }
message UpdateContainerResponse { Container container = 1; }
message DeleteContainerRequest { string id = 1; }
`;

export const SNAPSHOTS_PROTO = String.raw`
syntax = "proto3";
package containerd.services.snapshots.v1;
service Snapshots {
  rpc Prepare(PrepareSnapshotRequest) returns (PrepareSnapshotResponse);
  rpc View(ViewSnapshotRequest) returns (ViewSnapshotResponse);
  rpc Mounts(MountsRequest) returns (MountsResponse);
  rpc Commit(CommitSnapshotRequest) returns (google.protobuf.Empty);
  rpc Remove(RemoveSnapshotRequest) returns (google.protobuf.Empty);
  rpc Stat(StatSnapshotRequest) returns (StatSnapshotResponse);
  rpc Usage(UsageRequest) returns (UsageResponse);
}
enum Kind { UNKNOWN = 0; VIEW = 1; ACTIVE = 2; COMMITTED = 3; }
message Info {
  string name = 1; string parent = 2; Kind kind = 3; google.protobuf.Timestamp created_at = 4;
  google.protobuf.Timestamp updated_at = 5; map<string, string> labels = 6;
}
message PrepareSnapshotRequest { string snapshotter = 1; string key = 2; string parent = 3; map<string, string> labels = 4; }
message PrepareSnapshotResponse { repeated containerd.types.Mount mounts = 1; }
message ViewSnapshotRequest { string snapshotter = 1; string key = 2; string parent = 3; map<string, string> labels = 4; }
message ViewSnapshotResponse { repeated containerd.types.Mount mounts = 1; }
message MountsRequest { string snapshotter = 1; string key = 2; }
message MountsResponse { repeated containerd.types.Mount mounts = 1; }
message CommitSnapshotRequest { string snapshotter = 1; string name = 2; string key = 3; map<string, string> labels = 4; }
message RemoveSnapshotRequest { string snapshotter = 1; string key = 2; }
message StatSnapshotRequest { string snapshotter = 1; string key = 2; }
message StatSnapshotResponse { Info info = 1; }
message UsageRequest { string snapshotter = 1; string key = 2; }
message UsageResponse { int64 size = 1; int64 inodes = 2; }
`;

export const TASKS_PROTO = String.raw`
syntax = "proto3";
package containerd.services.tasks.v1;
service Tasks {
  rpc Create(CreateTaskRequest) returns (CreateTaskResponse);
  rpc Start(StartRequest) returns (StartResponse);
  rpc Delete(DeleteTaskRequest) returns (DeleteResponse);
  rpc DeleteProcess(DeleteProcessRequest) returns (DeleteResponse);
  rpc Get(GetRequest) returns (GetResponse);
  rpc List(ListTasksRequest) returns (ListTasksResponse);
  rpc Kill(KillRequest) returns (google.protobuf.Empty);
  rpc Exec(ExecProcessRequest) returns (google.protobuf.Empty);
  rpc ResizePty(ResizePtyRequest) returns (google.protobuf.Empty);
  rpc CloseIO(CloseIORequest) returns (google.protobuf.Empty);
  rpc Pause(PauseTaskRequest) returns (google.protobuf.Empty);
  rpc Resume(ResumeTaskRequest) returns (google.protobuf.Empty);
  rpc Update(UpdateTaskRequest) returns (google.protobuf.Empty);
  rpc Metrics(MetricsRequest) returns (MetricsResponse);
  rpc Wait(WaitRequest) returns (WaitResponse);
}
message CreateTaskRequest {
  string container_id = 1; repeated containerd.types.Mount rootfs = 3;
  string stdin = 4; string stdout = 5; string stderr = 6; bool terminal = 7; google.protobuf.Any options = 9;
}
message CreateTaskResponse { string container_id = 1; uint32 pid = 2; }
message StartRequest { string container_id = 1; string exec_id = 2; }
message StartResponse { uint32 pid = 1; }
message DeleteTaskRequest { string container_id = 1; }
message DeleteResponse { string id = 1; uint32 pid = 2; uint32 exit_status = 3; google.protobuf.Timestamp exited_at = 4; }
message DeleteProcessRequest { string container_id = 1; string exec_id = 2; }
message GetRequest { string container_id = 1; string exec_id = 2; }
message GetResponse { containerd.v1.types.Process process = 1; }
message ListTasksRequest { string filter = 1; }
message ListTasksResponse { repeated containerd.v1.types.Process tasks = 1; }
message KillRequest { string container_id = 1; string exec_id = 2; uint32 signal = 3; bool all = 4; }
message ExecProcessRequest {
  string container_id = 1; string stdin = 2; string stdout = 3; string stderr = 4;
  bool terminal = 5; google.protobuf.Any spec = 6; string exec_id = 7;
}
message ResizePtyRequest { string container_id = 1; string exec_id = 2; uint32 width = 3; uint32 height = 4; }
message CloseIORequest { string container_id = 1; string exec_id = 2; bool stdin = 3; }
message PauseTaskRequest { string container_id = 1; }
message ResumeTaskRequest { string container_id = 1; }
message UpdateTaskRequest { string container_id = 1; google.protobuf.Any resources = 2; map<string, string> annotations = 3; }
message MetricsRequest { repeated string filters = 1; }
message MetricsResponse { repeated containerd.types.Metric metrics = 1; }
message WaitRequest { string container_id = 1; string exec_id = 2; }
message WaitResponse { uint32 exit_status = 1; google.protobuf.Timestamp exited_at = 2; }
`;

export const EVENTS_SERVICE_PROTO = String.raw`
syntax = "proto3";
package containerd.services.events.v1;
service Events { rpc Subscribe(SubscribeRequest) returns (stream Envelope); }
message SubscribeRequest { repeated string filters = 1; }
message Envelope { google.protobuf.Timestamp timestamp = 1; string namespace = 2; string topic = 3; google.protobuf.Any event = 4; }
`;

/** Leases keep what an import or a commit writes from the garbage collector until an image refers to it. */
export const LEASES_PROTO = String.raw`
syntax = "proto3";
package containerd.services.leases.v1;
service Leases {
  rpc Create(CreateRequest) returns (CreateResponse);
  rpc Delete(DeleteRequest) returns (google.protobuf.Empty);
  rpc List(ListRequest) returns (ListResponse);
}
message Lease { string id = 1; google.protobuf.Timestamp created_at = 2; map<string, string> labels = 3; }
message CreateRequest { string id = 1; map<string, string> labels = 3; }
message CreateResponse { Lease lease = 1; }
message DeleteRequest { string id = 1; bool sync = 2; }
message ListRequest { repeated string filters = 1; }
message ListResponse { repeated Lease leases = 1; }
`;

export const DIFF_PROTO = String.raw`
syntax = "proto3";
package containerd.services.diff.v1;
service Diff {
  rpc Apply(ApplyRequest) returns (ApplyResponse);
  rpc Diff(DiffRequest) returns (DiffResponse);
}
message ApplyRequest { containerd.types.Descriptor diff = 1; repeated containerd.types.Mount mounts = 2; }
message ApplyResponse { containerd.types.Descriptor applied = 1; }
message DiffRequest {
  repeated containerd.types.Mount left = 1; repeated containerd.types.Mount right = 2;
  string media_type = 3; string ref = 4; map<string, string> labels = 5;
}
message DiffResponse { containerd.types.Descriptor diff = 3; }
`;
