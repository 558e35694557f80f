// The typed shape of a manifest once `parsePod` has validated it: Kubernetes'
// own v1 types (kubernetes-types), narrowed where validation guarantees more
// than Kubernetes' optional-everything types say. Only what minipod reads is
// narrowed; the rest stays as Kubernetes types it.
import type { ObjectMeta } from 'kubernetes-types/meta/v1';
import type {
  Container, EnvVar, PodSecurityContext, PodSpec, SecurityContext, Volume, VolumeMount,
} from 'kubernetes-types/core/v1';
import type { RestartPolicy } from './plan-types.ts';

/** YAML and JSON numbers are quantities too (`sizeLimit: 1`), as Kubernetes' decoder accepts. */
export type QuantityValue = string | number;

export type HostPathType =
  | '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

/** The field paths `valueFrom.fieldRef` may name, as in Kubernetes; labels and annotations take a key. */
export type FieldPath =
  | 'metadata.name' | 'metadata.namespace' | 'metadata.uid' | 'spec.nodeName' | 'spec.serviceAccountName'
  | 'status.hostIP' | 'status.hostIPs' | 'status.podIP' | 'status.podIPs'
  | `metadata.labels['${string}']` | `metadata.annotations['${string}']`;

/** Either `value` or `valueFrom.fieldRef`; the other sources of Kubernetes are refused by validation. */
export interface EnvVarSpec extends Omit<EnvVar, 'valueFrom'> {
  valueFrom?: { fieldRef: { fieldPath: FieldPath; apiVersion?: string } };
}

export interface ResourcesSpec {
  limits?: Record<string, QuantityValue>;
  requests?: Record<string, QuantityValue>;
}

export interface VolumeMountSpec extends VolumeMount {
  name: string;
  mountPath: string;
}

export interface ContainerSpec extends Omit<Container, 'env' | 'resources' | 'volumeMounts' | 'restartPolicy' | 'imagePullPolicy'> {
  name: string;
  image: string;
  env?: EnvVarSpec[];
  resources?: ResourcesSpec;
  volumeMounts?: VolumeMountSpec[];
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Only on init containers, and only Always: a sidecar. */
  restartPolicy?: 'Always';
  securityContext?: SecurityContext;
}

/** Exactly one source, and only the ones minipod provides. */
export interface VolumeSpec extends Pick<Volume, 'name'> {
  emptyDir?: { medium?: '' | 'Memory'; sizeLimit?: QuantityValue };
  hostPath?: { path: string; type?: HostPathType };
}

export interface PodSpecManifest extends Omit<PodSpec, 'containers' | 'initContainers' | 'volumes' | 'restartPolicy'> {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: VolumeSpec[];
  restartPolicy?: RestartPolicy;
  securityContext?: PodSecurityContext;
}

export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta & { name: string };
  spec: PodSpecManifest;
}
