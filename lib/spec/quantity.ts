// Kubernetes resource quantities ("100m", "128Mi", "1e3") parsed and printed
// as k8s.io/apimachinery/pkg/api/resource does (quantity.go, suffix.go,
// amount.go), quirks included, so that a manifest minipod accepts means what
// it means to a cluster, and prints back as kubectl would show it. Values are
// exact: a bigint mantissa times a power of ten, never a float.
import { MinipodError } from '../errors.ts';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

// Go's ErrFormatWrong, ErrNumeric and ErrSuffix, word for word. The regular
// expression is only quoted: Go's scanner, like `scan` below, is what decides.
const ERR_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const ERR_NUMERIC = 'unable to parse numeric part of quantity';
const ERR_SUFFIX = "unable to parse quantity's suffix";

export class QuantityError extends MinipodError {}

const DECIMAL_SI = new Map([['n', -9], ['u', -6], ['m', -3], ['', 0], ['k', 3], ['M', 6], ['G', 9], ['T', 12], ['P', 15], ['E', 18]]);
const DECIMAL_SI_BY_EXPONENT = new Map([...DECIMAL_SI].map(([suffix, exponent]) => [exponent, suffix]));
/** Indexed by the power of 1024. */
const BINARY_SI = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

const INT64_MAX = 2n ** 63n - 1n;
const NANO = -9;

export class Quantity {
  /** The value is mantissa × 10^exponent, the mantissa holding no factor of ten (0 is 0 × 10^0). */
  readonly mantissa: bigint;
  readonly exponent: number;
  readonly format: QuantityFormat;
  /** The input, when Go keeps it as the quantity's string and prints it back instead of the canonical form. */
  private readonly text: string;

  /** mantissa × 10^exponent as given, like Go's NewDecimalQuantity: parseQuantity is what rounds and caps. */
  constructor(mantissa: bigint, exponent: number, format: QuantityFormat, text = '') {
    // With the trailing zeros in the exponent, a value has one form: it is
    // whole exactly when the exponent is >= 0.
    const digits = mantissa.toString();
    const zeros = mantissa === 0n ? 0 : digits.length - digits.replace(/0+$/, '').length;
    this.mantissa = mantissa / 10n ** BigInt(zeros);
    this.exponent = mantissa === 0n ? 0 : exponent + zeros;
    this.format = format;
    this.text = text;
  }

  sign(): -1 | 0 | 1 {
    return this.mantissa > 0n ? 1 : this.mantissa < 0n ? -1 : 0;
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return compare(this.mantissa, this.exponent, other.mantissa, other.exponent);
  }

  /** Go's String(): CanonicalizeBytes, or the input itself where Go kept it ("+100m" stays "+100m"). */
  toString(): string {
    if (this.text) return this.text;
    if (this.mantissa === 0n) return '0';
    // BinarySI is printed only for whole numbers from 1024 up in magnitude; the rest is printed as DecimalSI.
    if (this.format === 'BinarySI' && this.exponent >= 0) {
      let n = this.mantissa * 10n ** BigInt(this.exponent);
      if (abs(n) >= 1024n) {
        let power = 0;
        for (; n % 1024n === 0n; power++) n /= 1024n;
        // Parsing caps BinarySI below 8Ei, so the suffix always exists; Go prints none if not.
        return `${n}${BINARY_SI[power] ?? ''}`;
      }
    }
    // Decimal forms lower the exponent to a multiple of three. DecimalSI has no
    // suffix past E: Go then writes the exponent, as DecimalExponent does.
    const exponent = Math.floor(this.exponent / 3) * 3;
    const number = this.mantissa * 10n ** BigInt(this.exponent - exponent);
    const suffix = this.format === 'DecimalExponent' ? undefined : DECIMAL_SI_BY_EXPONENT.get(exponent);
    return `${number}${suffix ?? (exponent === 0 ? '' : `e${exponent}`)}`;
  }

  /**
   * Go's Value(): the value rounded up, away from zero, to a whole number.
   * Unlike Go's int64 it does not overflow: it is exact, so its size grows
   * with the exponent (1e400 is 400 digits). For untrusted input, compare
   * against a bound with cmp() first, as Go's documentation advises too.
   */
  value(): bigint {
    return this.scaled(0);
  }

  /** Go's MilliValue(): value × 1000 rounded up, away from zero; exact as value() is. */
  milliValue(): bigint {
    return this.scaled(-3);
  }

  private scaled(exponent: number): bigint {
    const n = ceilTo(abs(this.mantissa), this.exponent, exponent);
    return this.mantissa < 0n ? -n : n;
  }
}

/**
 * Go's ParseQuantity. A number is what YAML or JSON decoded (`cpu: 0.5`):
 * Go's encoding/json writes a float64 exactly as Number#toString does (0.5,
 * 1e+21, 1e-7), so String(input) is the text Kubernetes' decoder would parse.
 */
export function parseQuantity(input: string | number): Quantity {
  const str = typeof input === 'number' ? String(input) : input;
  if (str === '') throw new QuantityError(ERR_FORMAT);
  const { negative, value, num, denom, suffix } = scan(str);
  const { exponent, format } = interpret(suffix);
  const binary = format === 'BinarySI';
  const digits = num + denom;

  // Go first tries an int64 fast path. It alone fails on 19 digits past
  // int64 ("9999999999999999999" is an error, one digit more is not), and
  // alone keeps `str` to print back when it looks canonical. Its scale is
  // int32 arithmetic, wrapping as Go's does.
  const scale = binary ? 0 : (exponent - denom.length) | 0;
  const fast = binary
    ? denom === '' && num.length + Math.trunc((exponent * 3) / 10) + 1 <= 15
    : digits.length <= 19 && scale >= NANO;
  let text = '';
  if (fast) {
    const n = BigInt(digits);
    if (n > INT64_MAX) throw new QuantityError(ERR_NUMERIC);
    // Go's own test of "canonical", loose as it is: "100.035k", "1E3" and "+1Ki" are kept too.
    const kept = binary ? n % 8n !== 0n : scale % 3 === 0 && !digits.endsWith('000') && digits[0] !== '0';
    if (kept) text = str;
  } else if (!/[0-9]/.test(value)) {
    // The slow path parses `value` as an inf.Dec, which needs a digit: "Ei" and ".e-10" fail, "Mi" does not.
    throw new QuantityError(ERR_NUMERIC);
  }

  let mantissa = binary ? BigInt(digits) << BigInt(exponent) : BigInt(digits);
  let exp10 = binary ? -denom.length : scale;
  // Below a nano, round up: "if you want some resources, you should get some resources".
  if (exp10 < NANO) {
    mantissa = ceilTo(mantissa, exp10, NANO);
    exp10 = NANO;
  }
  let finalFormat = format;
  if (binary) {
    // Go caps BinarySI, silently, at the int64 maximum: "9Ei" is 2^63-1.
    if (compare(mantissa, exp10, INT64_MAX, 0) > 0) {
      mantissa = INT64_MAX;
      exp10 = 0;
    }
    if (mantissa !== 0n && compare(mantissa, exp10, 1n, 0) < 0) finalFormat = 'DecimalSI';
  }
  return new Quantity(negative ? -mantissa : mantissa, exp10, finalFormat, text);
}

const NUMBER = /^([+-]?)0*([0-9]*)(?:\.([0-9]*))?/;
const SUFFIX = /^[eEinumkKMGTP]*[-+]?[0-9]*$/;

/**
 * Go's parseQuantityString: a sign, digits, a fraction, then suffix letters,
 * a sign and digits. Every part may be empty, so a bare suffix ("Mi") is a
 * quantity, zero, as in Go. `num` has its leading zeros cut and is "0" if empty.
 */
function scan(str: string): { negative: boolean; value: string; num: string; denom: string; suffix: string } {
  const match = NUMBER.exec(str)!;
  const value = match[0];
  const suffix = str.slice(value.length);
  if (!SUFFIX.test(suffix)) throw new QuantityError(ERR_FORMAT);
  return { negative: match[1] === '-', value, num: match[2] || '0', denom: match[3] ?? '', suffix };
}

/** Go's suffixer: the exponent a suffix stands for, of 10 or, for BinarySI, of 2. */
function interpret(suffix: string): { exponent: number; format: QuantityFormat } {
  const decimal = DECIMAL_SI.get(suffix);
  if (decimal !== undefined) return { exponent: decimal, format: 'DecimalSI' };
  const power = BINARY_SI.indexOf(suffix);
  if (power > 0) return { exponent: 10 * power, format: 'BinarySI' };
  // strconv.ParseInt takes a signed int64, which Go then narrows to int32, wrapping.
  if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    const exponent = BigInt(suffix.slice(1));
    if (BigInt.asIntN(64, exponent) === exponent) {
      return { exponent: Number(BigInt.asIntN(32, exponent)), format: 'DecimalExponent' };
    }
  }
  throw new QuantityError(ERR_SUFFIX);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

function digitCount(n: bigint): number {
  return abs(n).toString().length;
}

/**
 * a × 10^ea against b × 10^eb. The leading digits' positions decide first,
 * so "1e999999999" against "1" never builds a power of ten bigger than the
 * digits written.
 */
function compare(a: bigint, ea: number, b: bigint, eb: number): -1 | 0 | 1 {
  const sa = a > 0n ? 1 : a < 0n ? -1 : 0;
  const sb = b > 0n ? 1 : b < 0n ? -1 : 0;
  if (sa !== sb) return sa > sb ? 1 : -1;
  if (sa === 0) return 0;
  const lead = digitCount(a) + ea - (digitCount(b) + eb);
  if (lead !== 0) return (lead > 0) === (sa > 0) ? 1 : -1;
  // Same leading position: the exponents differ by less than the digit counts.
  const x = ea > eb ? a * 10n ** BigInt(ea - eb) : a;
  const y = eb > ea ? b * 10n ** BigInt(eb - ea) : b;
  return x > y ? 1 : x < y ? -1 : 0;
}

/** ⌈m × 10^e / 10^at⌉ for m >= 0, without a power of ten longer than m when m is far below 10^at. */
function ceilTo(m: bigint, e: number, at: number): bigint {
  if (e >= at) return m * 10n ** BigInt(e - at);
  if (m === 0n) return 0n;
  const shift = at - e;
  if (digitCount(m) <= shift) return 1n;
  const unit = 10n ** BigInt(shift);
  return m / unit + (m % unit === 0n ? 0n : 1n);
}
