import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MinipodError } from '../../../lib/errors.ts';
import { parseQuantity, Quantity, QuantityError, type QuantityFormat } from '../../../lib/spec/quantity.ts';

/** Go's decQuantity(mantissa, exponent, format): the exact value a case must parse to. */
function dec(mantissa: bigint, exponent: number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return new Quantity(mantissa, exponent, format);
}

const MAX = 2n ** 63n - 1n;
const Ki = 1024n;

// [input, what String() prints, exact value and format]. Inputs, values and
// formats down to "1.G" are the table of TestQuantityParse in
// k8s.io/apimachinery/pkg/api/resource/quantity_test.go, the strings are what
// Go's String() prints for them; the next groups come from TestQuantityParseEmit
// and TestQuantityString in the same file.
const GO_PARSE_CASES: [string, string, Quantity][] = [
  ['0', '0', dec(0n, 0)],
  ['0n', '0', dec(0n, 0)],
  ['0Ki', '0', dec(0n, 0, 'BinarySI')],
  ['1', '1', dec(1n, 0)],
  ['1Ki', '1Ki', dec(Ki, 0, 'BinarySI')],
  ['8Ki', '8Ki', dec(8n * Ki, 0, 'BinarySI')],
  ['7Mi', '7Mi', dec(7n * Ki ** 2n, 0, 'BinarySI')],
  ['6Gi', '6Gi', dec(6n * Ki ** 3n, 0, 'BinarySI')],
  ['5Ti', '5Ti', dec(5n * Ki ** 4n, 0, 'BinarySI')],
  ['4Pi', '4Pi', dec(4n * Ki ** 5n, 0, 'BinarySI')],
  ['3Ei', '3Ei', dec(3n * Ki ** 6n, 0, 'BinarySI')],
  ['100Ti', '100Ti', dec(100n * Ki ** 4n, 0, 'BinarySI')],
  ['5n', '5n', dec(5n, -9)],
  ['4u', '4u', dec(4n, -6)],
  ['3m', '3m', dec(3n, -3)],
  ['8k', '8k', dec(8n, 3)],
  ['50k', '50k', dec(5n, 4)],
  ['7M', '7M', dec(7n, 6)],
  ['6G', '6G', dec(6n, 9)],
  ['40T', '40T', dec(4n, 13)],
  ['300T', '300T', dec(3n, 14)],
  ['2P', '2P', dec(2n, 15)],
  ['1E', '1E', dec(1n, 18)],
  // Go prints its input back when its check calls it canonical, a loose check.
  ['1E-3', '1E-3', dec(1n, -3, 'DecimalExponent')],
  ['1e3', '1e3', dec(1n, 3, 'DecimalExponent')],
  ['1e14', '100e12', dec(1n, 14, 'DecimalExponent')],
  ['100.035k', '100.035k', dec(100035n, 0)],
  ['0.001', '1m', dec(1n, -3)],
  ['0.0005k', '500m', dec(5n, -1)],
  ['0.5', '500m', dec(5n, -1)],
  ['0.5e0', '500e-3', dec(5n, -1, 'DecimalExponent')],
  ['0.5e-2', '5e-3', dec(5n, -3, 'DecimalExponent')],
  ['10.035M', '10.035M', dec(10035n, 3)],
  ['1.2e3', '1200', dec(12n, 2, 'DecimalExponent')],
  ['1.3E+6', '1300e3', dec(13n, 5, 'DecimalExponent')],
  ['1.40e9', '1400e6', dec(14n, 8, 'DecimalExponent')],
  ['1.7E18', '1700e15', dec(17n, 17, 'DecimalExponent')],
  ['9.01', '9010m', dec(901n, -2)],
  ['8.1k', '8100', dec(81n, 2)],
  ['7.123456M', '7.123456M', dec(7123456n, 0)],
  ['2.5P', '2500T', dec(25n, 14)],
  ['1.01E', '1010P', dec(101n, 16)],
  // Below a nano rounds up; BinarySI caps at 2^63-1.
  ['3.001n', '4n', dec(4n, -9)],
  ['1.1E-9', '2e-9', dec(2n, -9, 'DecimalExponent')],
  ['0.0000000001', '1n', dec(1n, -9)],
  ['0.00000000050', '1n', dec(1n, -9)],
  ['0.5e-9', '1e-9', dec(1n, -9, 'DecimalExponent')],
  ['0.9n', '1n', dec(1n, -9)],
  ['0.00000012345', '124n', dec(124n, -9)],
  ['9Ei', '9223372036854775807', dec(MAX, 0, 'BinarySI')],
  ['9223372036854775807Ki', '9223372036854775807', dec(MAX, 0, 'BinarySI')],
  ['12E', '12E', dec(12n, 18)],
  // Fractional binary: printed as DecimalSI when not a whole number.
  ['100.035Ki', '102435840m', dec(10243584n, -2, 'BinarySI')],
  ['0.5Mi', '512Ki', dec(524288n, 0, 'BinarySI')],
  ['0.05Gi', '53687091200m', dec(536870912n, -1, 'BinarySI')],
  ['0.025Ti', '27487790694400m', dec(274877906944n, -1, 'BinarySI')],
  ['0.000000000001Ki', '2n', dec(2n, -9)],
  ['.001', '1m', dec(1n, -3)],
  ['.0001k', '100m', dec(100n, -3)],
  ['1.', '1.', dec(1n, 0)],
  ['1.G', '1.G', dec(1n, 9)],
  // TestQuantityParseEmit
  ['1024Mi', '1Gi', dec(Ki ** 3n, 0, 'BinarySI')],
  ['1000M', '1G', dec(1n, 9)],
  ['.001Ki', '1024m', dec(1024n, -3, 'BinarySI')],
  ['.000001Ki', '1024u', dec(1024n, -6)],
  ['.000000001Ki', '1024n', dec(1024n, -9)],
  // TestQuantityString: DecimalSI past E falls back to an exponent.
  ['1000E', '1e21', dec(1n, 21)],
  ['5000E', '5e21', dec(5n, 21)],
];

// Worked out from quantity.go, beyond Go's tables.
const MORE_PARSE_CASES: [string | number, string, Quantity][] = [
  ['+100m', '+100m', dec(100n, -3)],
  ['-100m', '-100m', dec(-100n, -3)],
  ['128Mi', '128Mi', dec(128n * Ki ** 2n, 0, 'BinarySI')],
  ['1.5Gi', '1536Mi', dec(1536n * Ki ** 2n, 0, 'BinarySI')],
  ['-1.5Gi', '-1536Mi', dec(-1536n * Ki ** 2n, 0, 'BinarySI')],
  ['1.5', '1500m', dec(15n, -1)],
  ['1500m', '1500m', dec(15n, -1)],
  ['1000m', '1', dec(1n, 0)],
  ['1e400', '10e399', dec(1n, 400, 'DecimalExponent')],
  ['99999999999999999999999Ei', '9223372036854775807', dec(MAX, 0, 'BinarySI')],
  ['-99999999999999999999999Ei', '-9223372036854775807', dec(-MAX, 0, 'BinarySI')],
  // 20 digits skip Go's int64 path, so they parse (19 nines do not: see the errors).
  ['99999999999999999999', '99999999999999999999', dec(10n ** 20n - 1n, 0)],
  // Go's scanner lets every part be empty: a bare suffix, or a lone sign or dot, is zero.
  ['Mi', '0', dec(0n, 0, 'BinarySI')],
  ['.', '0', dec(0n, 0)],
  ['-', '0', dec(0n, 0)],
  // Go keeps the exponent as an int32, wrapping: 2^32 is 0.
  ['1e4294967296', '1e4294967296', dec(1n, 0, 'DecimalExponent')],
  // YAML and JSON numbers, as Go's encoding/json would have written them.
  [0.5, '500m', dec(5n, -1)],
  [1, '1', dec(1n, 0)],
  [-2, '-2', dec(-2n, 0)],
  [1e21, '1e+21', dec(1n, 21, 'DecimalExponent')],
  [1e-7, '100e-9', dec(1n, -7, 'DecimalExponent')],
];

for (const [input, printed, expected] of [...GO_PARSE_CASES, ...MORE_PARSE_CASES]) {
  test(`parse ${JSON.stringify(input)}`, () => {
    const q = parseQuantity(input);
    assert.is(q.cmp(expected), 0, `value: got ${q.mantissa}e${q.exponent}`);
    assert.is(q.format, expected.format);
    assert.is(q.toString(), printed);
  });
}

test('a sign changes only the sign (TestQuantityParse)', () => {
  for (const [input, , expected] of GO_PARSE_CASES) {
    const negative = parseQuantity(`-${input}`);
    assert.is(negative.cmp(dec(-expected.mantissa, expected.exponent)), 0, `-${input}`);
    assert.is(negative.format, expected.format, `-${input}`);
    const positive = parseQuantity(`+${input}`);
    assert.is(positive.cmp(expected), 0, `+${input}`);
    assert.is(positive.format, expected.format, `+${input}`);
  }
});

const FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const NUMERIC = 'unable to parse numeric part of quantity';
const SUFFIX = "unable to parse quantity's suffix";

// The invalid list of TestQuantityParse, then more worked out from quantity.go.
const ERROR_CASES: [string | number, string][] = [
  ['1.1.M', FORMAT],
  ['1+1.0M', FORMAT],
  ['0.1mi', SUFFIX],
  ['0.1am', FORMAT],
  ['aoeu', FORMAT],
  ['.5i', SUFFIX],
  ['1i', SUFFIX],
  ['-3.01i', SUFFIX],
  ['-3.01e-', SUFFIX],
  [' 1', FORMAT],
  ['1 ', FORMAT],
  ['', FORMAT],
  ['12XB', FORMAT],
  ['1.2.3', FORMAT],
  ['1 Gi', FORMAT],
  ['0x10', FORMAT],
  ['1Qi', FORMAT],
  ['--1', SUFFIX],
  ['1e', SUFFIX],
  ['1ki', SUFFIX],
  ['1e9223372036854775808', SUFFIX],
  // 19 digits take Go's int64 path, and overflow it.
  ['9999999999999999999', NUMERIC],
  // Digitless, yet past Go's int64 path, which alone accepts no digits ("Mi" is 0).
  ['Ei', NUMERIC],
  ['.e-10', NUMERIC],
  [Number.NaN, FORMAT],
];

for (const [input, message] of ERROR_CASES) {
  test(`error ${JSON.stringify(input)}`, () => {
    try {
      parseQuantity(input);
      assert.unreachable(`parsed ${JSON.stringify(input)}`);
    } catch (err) {
      assert.instance(err, QuantityError);
      assert.instance(err, MinipodError);
      assert.is((err as Error).message, message);
    }
  });
}

// [input, value(), milliValue(), sign()]: Go rounds away from zero.
const VALUE_CASES: [string, bigint, bigint, -1 | 0 | 1][] = [
  ['100m', 1n, 100n, 1],
  ['128Mi', 134217728n, 134217728000n, 1],
  ['1.5Gi', 1610612736n, 1610612736000n, 1],
  ['-1', -1n, -1000n, -1],
  ['-1.5', -2n, -1500n, -1],
  ['0', 0n, 0n, 0],
  ['-0', 0n, 0n, 0],
  ['1n', 1n, 1n, 1],
  ['1.0001', 2n, 1001n, 1],
  ['100.035Ki', 102436n, 102435840n, 1],
  ['9Ei', MAX, MAX * 1000n, 1],
  ['1e30', 10n ** 30n, 10n ** 33n, 1],
];

for (const [input, value, milli, sign] of VALUE_CASES) {
  test(`value ${input}`, () => {
    const q = parseQuantity(input);
    assert.is(q.value(), value);
    assert.is(q.milliValue(), milli);
    assert.is(q.sign(), sign);
  });
}

// [a, b, a.cmp(b)]; the first four are TestQuantityCmp's.
const CMP_CASES: [string, string, -1 | 0 | 1][] = [
  ['0', '0', 0],
  ['100m', '50m', 1],
  ['50m', '100m', -1],
  ['10000T', '100Gi', 1],
  ['1Gi', '1G', 1],
  ['1000m', '1', 0],
  ['1.5Gi', '1536Mi', 0],
  ['1E', '1e18', 0],
  ['-2', '-1', -1],
  ['-1', '0', -1],
  ['1e400', '9Ei', 1],
  // Decided by the leading digits, without building a power of ten this long.
  ['1e2000000000', '1', 1],
  ['-1e2000000000', '-1', -1],
];

for (const [a, b, expected] of CMP_CASES) {
  test(`cmp ${a} ${b}`, () => {
    assert.is(parseQuantity(a).cmp(parseQuantity(b)), expected);
    assert.is(parseQuantity(b).cmp(parseQuantity(a)), (0 - expected) as -1 | 0 | 1);
  });
}

test.run();
