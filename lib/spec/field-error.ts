// Kubernetes' field errors: what validation reports, and the one line
// `kubectl` prints for each.
import { MinipodError } from '../errors.ts';
import { Quantity } from './quantity.ts';

/** Kubernetes' field.ErrorType texts (k8s.io/apimachinery/pkg/util/validation/field). */
export type FieldErrorType =
  | 'Required value' | 'Invalid value' | 'Unsupported value' | 'Duplicate value' | 'Not found' | 'Forbidden'
  | 'Too long' | 'Too many';

export interface FieldError {
  /** Kubernetes' field path: `spec.containers[1].name`. */
  field: string;
  type: FieldErrorType;
  /** The offending value; Kubernetes prints none for `Required value`, `Forbidden` and `Too long`. */
  value?: unknown;
  detail?: string;
}

/** Every field error of a manifest, one per line, as `kubectl` prints them. */
export class ValidationError extends MinipodError {
  readonly errors: FieldError[];
  constructor(errors: FieldError[]) {
    super(errors.map(formatFieldError).join('\n'));
    this.errors = errors;
  }
}

/** The types field.Error.ErrorBody() prints without the value. */
const VALUELESS: ReadonlySet<FieldErrorType> = new Set<FieldErrorType>(['Required value', 'Forbidden', 'Too long']);

/** `spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", ...`, as field.Error.Error() does. */
export function formatFieldError({ field, type, value, detail }: FieldError): string {
  // `Too many` leaves the value out when it has no count to give.
  const bare = VALUELESS.has(type) || (type === 'Too many' && value === undefined);
  let body: string = bare ? type : `${type}: ${formatValue(value)}`;
  if (detail) body += `: ${detail}`;
  return field ? `${field}: ${body}` : body;
}

/** Beyond this many characters a value is cut: the error is one line to read, not a copy of the manifest. */
const MAX_VALUE_CHARS = 300;

function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  // Go prints a fmt.Stringer with String(), unquoted.
  if (value instanceof Quantity) return value.toString();
  const text = JSON.stringify(value);
  if (text.length <= MAX_VALUE_CHARS) return text;
  const length = typeof value === 'string' ? `${value.length} characters` : `${text.length} characters as JSON`;
  return `${text.slice(0, 64)}... (${length})`;
}
