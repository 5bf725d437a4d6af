/**
 * TypeScript shapes of the messages in proto-*.ts, as the decoder hands them over
 * (snake_case names, defaults filled in, int64 as number, enums as their names, bytes
 * as Buffer). Requests may leave out any field: the encoder fills proto3 defaults.
 */

export interface Any {
  type_url: string;
  value: Buffer;
}
export interface Timestamp {
  seconds: number;
  nanos: number;
}
export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string[];
}
export interface Descriptor {
  media_type: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}
export type TaskStatus = 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING';
export interface Process {
  container_id: string;
  id: string;
  pid: number;
  status: TaskStatus;
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  exit_status: number;
  exited_at: Timestamp | null;
}
export interface Container {
  id: string;
  labels: Record<string, string>;
  image: string;
  runtime: { name: string; options: Any | null } | null;
  spec: Any | null;
  snapshotter: string;
  snapshot_key: string;
  created_at: Timestamp | null;
  updated_at: Timestamp | null;
  /** Client data containerd keeps for us and never reads: NovaCron's definition. */
  extensions: Record<string, Any>;
}
export interface Image {
  name: string;
  labels: Record<string, string>;
  target: Descriptor | null;
  created_at: Timestamp | null;
  updated_at: Timestamp | null;
}
export interface ContentInfo {
  digest: string;
  size: number;
  labels: Record<string, string>;
}
export interface SnapshotInfo {
  name: string;
  parent: string;
  kind: 'UNKNOWN' | 'VIEW' | 'ACTIVE' | 'COMMITTED';
  created_at: Timestamp | null;
  labels: Record<string, string>;
}
export interface Envelope {
  timestamp: Timestamp | null;
  namespace: string;
  topic: string;
  event: Any | null;
}
export interface Metric {
  timestamp: Timestamp | null;
  id: string;
  data: Any | null;
}
export type WriteAction = 'STAT' | 'WRITE' | 'COMMIT';
export interface WriteContentRequest {
  action: WriteAction;
  ref: string;
  total?: number;
  expected?: string;
  offset?: number;
  data?: Buffer;
  labels?: Record<string, string>;
}
export interface WriteContentResponse {
  action: WriteAction;
  offset: number;
  total: number;
  digest: string;
}

type Empty = Record<string, never>;
type Req<T> = { [K in keyof T]?: T[K] extends object | null ? DeepPartial<T[K]> : T[K] };
type DeepPartial<T> = T extends Buffer ? T : T extends (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * Every unary RPC NovaCron makes: "service.Method" → [request, response]. The client
 * looks the method up in the loaded definitions by this key, so a typo fails to compile.
 */
export interface UnaryRpcs {
  'version.Version': [Empty, { version: string; revision: string }];
  'namespaces.List': [{ filter?: string }, { namespaces: { name: string; labels: Record<string, string> }[] }];
  'namespaces.Create': [{ namespace: { name: string; labels?: Record<string, string> } }, unknown];
  'namespaces.Delete': [{ name: string }, Empty];
  'images.Get': [{ name: string }, { image: Image | null }];
  'images.List': [{ filters?: string[] }, { images: Image[] }];
  'images.Create': [{ image: Req<Image> }, { image: Image | null }];
  'images.Update': [{ image: Req<Image>; update_mask?: { paths: string[] } }, { image: Image | null }];
  'images.Delete': [{ name: string; sync?: boolean }, Empty];
  'content.Info': [{ digest: string }, { info: ContentInfo | null }];
  'content.Update': [{ info: Req<ContentInfo>; update_mask?: { paths: string[] } }, { info: ContentInfo | null }];
  'content.Abort': [{ ref: string }, Empty];
  'containers.Get': [{ id: string }, { container: Container | null }];
  'containers.List': [{ filters?: string[] }, { containers: Container[] }];
  'containers.Create': [{ container: Req<Container> }, { container: Container | null }];
  'containers.Update': [{ container: Req<Container>; update_mask?: { paths: string[] } }, { container: Container | null }];
  'containers.Delete': [{ id: string }, Empty];
  'snapshots.Prepare': [{ snapshotter: string; key: string; parent?: string; labels?: Record<string, string> }, { mounts: Mount[] }];
  'snapshots.View': [{ snapshotter: string; key: string; parent?: string; labels?: Record<string, string> }, { mounts: Mount[] }];
  'snapshots.Mounts': [{ snapshotter: string; key: string }, { mounts: Mount[] }];
  'snapshots.Commit': [{ snapshotter: string; name: string; key: string; labels?: Record<string, string> }, Empty];
  'snapshots.Remove': [{ snapshotter: string; key: string }, Empty];
  'snapshots.Stat': [{ snapshotter: string; key: string }, { info: SnapshotInfo | null }];
  'snapshots.Usage': [{ snapshotter: string; key: string }, { size: number; inodes: number }];
  'tasks.Create': [
    { container_id: string; rootfs?: Req<Mount>[]; stdin?: string; stdout?: string; stderr?: string; terminal?: boolean; options?: Any },
    { container_id: string; pid: number },
  ];
  'tasks.Start': [{ container_id: string; exec_id?: string }, { pid: number }];
  'tasks.Delete': [{ container_id: string }, { id: string; pid: number; exit_status: number; exited_at: Timestamp | null }];
  'tasks.DeleteProcess': [{ container_id: string; exec_id: string }, { id: string; pid: number; exit_status: number }];
  'tasks.Get': [{ container_id: string; exec_id?: string }, { process: Process | null }];
  'tasks.List': [{ filter?: string }, { tasks: Process[] }];
  'tasks.Kill': [{ container_id: string; exec_id?: string; signal: number; all?: boolean }, Empty];
  'tasks.Exec': [
    { container_id: string; exec_id: string; stdin?: string; stdout?: string; stderr?: string; terminal?: boolean; spec: Any },
    Empty,
  ];
  'tasks.ResizePty': [{ container_id: string; exec_id?: string; width: number; height: number }, Empty];
  'tasks.CloseIO': [{ container_id: string; exec_id?: string; stdin: boolean }, Empty];
  'tasks.Pause': [{ container_id: string }, Empty];
  'tasks.Resume': [{ container_id: string }, Empty];
  'tasks.Update': [{ container_id: string; resources: Any }, Empty];
  'tasks.Metrics': [{ filters: string[] }, { metrics: Metric[] }];
  'tasks.Wait': [{ container_id: string; exec_id?: string }, { exit_status: number; exited_at: Timestamp | null }];
  'leases.Create': [{ id: string; labels?: Record<string, string> }, { lease: { id: string } | null }];
  'leases.Delete': [{ id: string; sync?: boolean }, Empty];
  'leases.List': [{ filters?: string[] }, { leases: { id: string; labels: Record<string, string> }[] }];
  'diff.Apply': [{ diff: Req<Descriptor>; mounts: Req<Mount>[] }, { applied: Descriptor | null }];
  'diff.Diff': [
    { left: Req<Mount>[]; right: Req<Mount>[]; media_type?: string; ref?: string; labels?: Record<string, string> },
    { diff: Descriptor | null },
  ];
}

export interface StreamRpcs {
  'content.Read': [{ digest: string; offset?: number; size?: number }, { offset: number; data: Buffer }];
  'events.Subscribe': [{ filters: string[] }, Envelope];
}
