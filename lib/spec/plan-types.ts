// What a validated manifest becomes: everything the runtime needs to start a
// pod, resolved (image paths, argv, environment, users, volumes), and nothing
// it does not.
import type { ContainerResources } from '../cgroup/limits.ts';
import type { HostPathType } from './manifest.ts';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** Who the container's process runs as; applied by the exec helper, never by the runtime. */
export interface UserPlan {
  uid: number;
  gid: number;
  /** Supplementary groups: the pod's supplementalGroups, then the image's /etc/group memberships. */
  groups: number[];
}

export interface SecurityPlan {
  /** The capability set (bit N = capability N), bounding, permitted and effective for root. */
  capabilities: bigint;
  /** no_new_privs: set unless allowPrivilegeEscalation or privileged. */
  noNewPrivs: boolean;
  /** All capabilities, nothing of /proc or /sys masked, /sys writable, no seccomp filter. */
  privileged: boolean;
  /** minipod's default seccomp filter (seccompProfile RuntimeDefault, the default), or none (Unconfined). */
  seccomp: boolean;
}

export interface MountPlan {
  volume: string;
  /** Absolute path inside the container. */
  target: string;
  /** Relative path inside the volume; '' for the volume's root. */
  subPath: string;
  readOnly: boolean;
}

export type VolumePlan =
  | { name: string; kind: 'emptyDir'; medium: 'disk' | 'memory'; sizeLimitBytes: bigint | null }
  | { name: string; kind: 'hostPath'; path: string; type: HostPathType };

export interface ContainerPlan {
  name: string;
  /** The image as the manifest wrote it, for messages. */
  image: string;
  /** `repository@sha256:<manifest digest>` as the CRI reports it; '' for a directory image. */
  imageID: string;
  /** Absolute paths of the image's layer directories, bottom first (the container writes to its own layer above them). */
  layers: string[];
  /** argv[0] is looked up in the container's PATH when it has no slash. */
  argv: string[];
  /** The full environment of the process, PATH and HOSTNAME included. */
  env: Record<string, string>;
  /** Absolute path inside the container; created if missing. */
  workingDir: string;
  /** Always applied, root included: the runtime's own supplementary groups never reach a container. */
  user: UserPlan;
  readOnlyRootFilesystem: boolean;
  mounts: MountPlan[];
  /** What the process may do beyond its user's rights. */
  security: SecurityPlan;
  /** resources.limits and requests, as the cgroups need them. */
  resources: ContainerResources;
  /** An init container with restartPolicy Always: runs beside the app containers. */
  sidecar: boolean;
  /** What stops it: the image's StopSignal, else SIGTERM. */
  stopSignal: number;
}

export interface PodPlan {
  name: string;
  namespace: string;
  /** metadata.uid as the pod's containers see it; minipod makes one per run. */
  uid: string;
  /** The machine it runs on: spec.nodeName, status.hostIP. */
  node: { name: string; ip: string };
  /** status.podIP: '' (a pod of minipod has only loopback) unless on the host's network. */
  podIP: string;
  hostname: string;
  /** spec.shareProcessNamespace: containers join the pause's PID namespace. */
  sharePid: boolean;
  /** spec.hostNetwork/hostIPC/hostPID: the host's namespace instead of a new one. */
  host: { network: boolean; ipc: boolean; pid: boolean };
  restartPolicy: RestartPolicy;
  terminationGracePeriodSeconds: number;
  activeDeadlineSeconds: number | null;
  volumes: VolumePlan[];
  initContainers: ContainerPlan[];
  containers: ContainerPlan[];
}
