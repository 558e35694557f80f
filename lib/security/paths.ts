// What /proc and /sys hide or keep read-only in every container that is not
// privileged: Docker's (and containerd's) default masked and read-only paths.

/** Made unreadable: a file gets /dev/null bound over it, a directory an empty read-only tmpfs. */
export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
] as const;

/** Bound onto themselves read-only. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;
