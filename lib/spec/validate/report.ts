// What the checks report: field errors, which refuse the manifest, and
// warnings, which do not.
import type { FieldError } from '../field-error.ts';

export class Report {
  readonly errors: FieldError[] = [];
  readonly warnings: string[] = [];
  required(field: string, detail?: string): void {
    this.errors.push({ field, type: 'Required value', detail });
  }
  invalid(field: string, value: unknown, detail: string): void {
    this.errors.push({ field, type: 'Invalid value', value, detail });
  }
  duplicate(field: string, value: unknown): void {
    this.errors.push({ field, type: 'Duplicate value', value });
  }
  notFound(field: string, value: unknown): void {
    this.errors.push({ field, type: 'Not found', value });
  }
  forbidden(field: string, detail: string): void {
    this.errors.push({ field, type: 'Forbidden', detail });
  }
  unsupported(field: string, value: unknown, supported: readonly string[]): void {
    const detail = `supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}`;
    this.errors.push({ field, type: 'Unsupported value', value, detail });
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
}
