// Pod manifest validation as a list of small named checks, the way runc's
// libcontainer validator works: strict checks collect Kubernetes-style field
// errors (all of them, so one run shows every problem), the soft check only
// warns. Messages copy Kubernetes' wording (pkg/apis/core/validation of
// Kubernetes 1.33) so what users find when they search an error is the
// Kubernetes documentation for it.
// The checks live in validate/, a module for each part of the pod they look
// at, beside the rules they share (rules.ts, names.ts); this file keeps their
// order, which is the order of the messages, in one place.
import { type FieldError, ValidationError } from './field-error.ts';
import { isObject } from './json.ts';
import type { PodManifest } from './manifest.ts';
import {
  commandAndArgsAreStringArrays, containerNamesAreUniqueLabels, containerRestartPolicyIsSidecar,
  containerSecurityContextsAreValid, envIsValid, envValueFromIsFieldRef, imagePullPoliciesAreKnown, imagesAreSet, volumeMountsAreValid,
  workingDirIsAbsolute,
} from './validate/container-checks.ts';
import { fieldsAreKnownAndSupported } from './validate/dispositions.ts';
import { type Check, locate } from './validate/locate.ts';
import {
  activeDeadlineIsInRange, apiVersionIsV1, containersAreListed, gracePeriodIsNonNegative, hostnameIsDnsLabel,
  initContainersAreListed, kindIsPod, metadataIsObject, nameIsDnsSubdomain, namespaceFlagsAreBooleans,
  namespaceIsDnsLabel, nodeNameIsDnsSubdomain, podSecurityContextIsValid, restartPolicyIsKnown,
  serviceAccountNameIsDnsSubdomain, sharedPidIsNotHostPid, specIsObject,
} from './validate/pod-checks.ts';
import { Report } from './validate/report.ts';
import { resourcesAreValid } from './validate/resources.ts';
import { volumeNamesAreUniqueLabels, volumesAreListed, volumeSourcesAreProvided } from './validate/volume-checks.ts';

/** Validate without throwing: every error, every warning. */
export function validatePod(manifest: unknown): { errors: FieldError[]; warnings: string[] } {
  const report = new Report();
  if (!isObject(manifest)) {
    report.invalid('', manifest, 'must be a Pod object');
  } else {
    const pod = locate(manifest);
    for (const check of [...STRICT_CHECKS, ...SOFT_CHECKS]) check(pod, report);
  }
  return { errors: report.errors, warnings: report.warnings };
}

/** The typed manifest, or a ValidationError listing every problem. Warnings are the caller's to print. */
export function parsePod(manifest: unknown): { pod: PodManifest; warnings: string[] } {
  const { errors, warnings } = validatePod(manifest);
  if (errors.length > 0) throw new ValidationError(errors);
  return { pod: withoutNulls(manifest) as PodManifest, warnings };
}

// The typed manifest must not hold nulls its type does not admit; they meant
// "not set" (see get in json.ts), so they go.
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]),
  );
}

const STRICT_CHECKS: readonly Check[] = [
  apiVersionIsV1,
  kindIsPod,
  metadataIsObject,
  nameIsDnsSubdomain,
  namespaceIsDnsLabel,
  specIsObject,
  containersAreListed,
  initContainersAreListed,
  volumesAreListed,
  volumeSourcesAreProvided,
  volumeNamesAreUniqueLabels,
  containerNamesAreUniqueLabels,
  imagesAreSet,
  imagePullPoliciesAreKnown,
  commandAndArgsAreStringArrays,
  envIsValid,
  envValueFromIsFieldRef,
  workingDirIsAbsolute,
  volumeMountsAreValid,
  resourcesAreValid,
  containerSecurityContextsAreValid,
  containerRestartPolicyIsSidecar,
  restartPolicyIsKnown,
  hostnameIsDnsLabel,
  namespaceFlagsAreBooleans,
  sharedPidIsNotHostPid,
  gracePeriodIsNonNegative,
  activeDeadlineIsInRange,
  podSecurityContextIsValid,
  serviceAccountNameIsDnsSubdomain,
  nodeNameIsDnsSubdomain,
];

const SOFT_CHECKS: readonly Check[] = [fieldsAreKnownAndSupported];
