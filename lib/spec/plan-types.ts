// What a validated manifest becomes: everything the runtime needs to start a
// pod, resolved (image paths, argv, environment), and nothing it does not.

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface ContainerPlan {
  name: string;
  /** The image as the manifest wrote it, for messages. */
  image: string;
  /** Absolute path of the container's root filesystem directory. */
  rootfs: string;
  /** argv[0] is looked up in the container's PATH when it has no slash. */
  argv: string[];
  /** The full environment of the process, PATH and HOSTNAME included. */
  env: Record<string, string>;
  /** Absolute path inside the container. */
  workingDir: string;
}

export interface PodPlan {
  name: string;
  namespace: string;
  hostname: string;
  /** spec.shareProcessNamespace: containers join the pause's PID namespace. */
  sharePid: boolean;
  restartPolicy: RestartPolicy;
  terminationGracePeriodSeconds: number;
  containers: ContainerPlan[];
}
