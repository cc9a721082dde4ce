import { describe, expect, it } from 'vitest';
import { DateTime } from '../../src/dotnet/datetime.js';
import { type NumericKind, doubleToString, formatComposite, formatItem, formatNumber, toDotNetString } from '../../src/dotnet/format.js';
import { thrown } from '../helpers/dotnet.js';

describe('double.ToString() (shortest round-trip, .NET Core 3.0+)', () => {
  it.each<[number, string]>([
    [1.0, '1'],
    [1.5, '1.5'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e20, '1E+20'],
    [1e15, '1E+15'],
    [1e16, '1E+16'],
    [123456789012345, '123456789012345'],
    [1234567890123456, '1234567890123456'], // up to max(digits, 15) integer digits stay fixed
    [1e-5, '1E-05'],
    [0.0001, '0.0001'],
    [2.5e-7, '2.5E-07'],
    [-0, '-0'],
    [0, '0'],
    [NaN, 'NaN'],
    [Infinity, '∞'],
    [-Infinity, '-∞'],
    [1.7976931348623157e308, '1.7976931348623157E+308'],
    [5e-324, '5E-324'],
    [123.456, '123.456'],
    [-42.5, '-42.5'],
    [100, '100'],
    [12345678.9, '12345678.9'],
    [0.3, '0.3'],
    [1 / 3, '0.3333333333333333'],
  ])('%s → %s', (x, expected) => {
    expect(doubleToString(x)).toBe(expected);
  });
});

describe('standard numeric format strings (invariant culture)', () => {
  it.each<[number | bigint, string, NumericKind, string]>([
    [1234.5678, 'N2', 'Double', '1,234.57'],
    [1234.5678, 'N', 'Double', '1,234.57'],
    [1234.5678, 'N0', 'Double', '1,235'],
    [-1234.5678, 'N1', 'Double', '-1,234.6'],
    [0.5, 'N0', 'Double', '1'],
    [1.5, 'N0', 'Double', '2'],
    [1234567, 'N0', 'Int32', '1,234,567'],
    [999.995, 'N2', 'Double', '1,000.00'], // 999.995 is 999.99500000000000454… as a double
    [1234.5678, 'F', 'Double', '1234.57'],
    [1234.5678, 'F3', 'Double', '1234.568'],
    [2.5, 'F0', 'Double', '3'],
    [-2.5, 'F0', 'Double', '-3'],
    [1.005, 'F2', 'Double', '1.00'],
    [0.125, 'F2', 'Double', '0.13'],
    [1e21, 'F0', 'Double', '1000000000000000000000'],
    [123, 'F3', 'Int32', '123.000'],
    [-0, 'F2', 'Double', '-0.00'],
    [0.001, 'F2', 'Double', '0.00'],
    [1234.5678, 'E', 'Double', '1.234568E+003'],
    [1234.5678, 'e2', 'Double', '1.23e+003'],
    [0, 'E2', 'Double', '0.00E+000'],
    [-0.0001234, 'E3', 'Double', '-1.234E-004'],
    [12345, 'E2', 'Int32', '1.23E+004'],
    [1234.5678, 'G3', 'Double', '1.23E+03'],
    [1234.5678, 'G', 'Double', '1234.5678'],
    [0.0001234, 'G2', 'Double', '0.00012'],
    [0.00001234, 'G2', 'Double', '1.2E-05'],
    [12345, 'G3', 'Int32', '1.23E+04'],
    [12345, 'G', 'Int32', '12345'],
    [123.456, 'G5', 'Double', '123.46'],
    [100, 'G2', 'Double', '1E+02'],
    [1e20, 'g', 'Double', '1e+20'],
    [0.5, 'P', 'Double', '50.00 %'],
    [0.12345, 'P1', 'Double', '12.3 %'],
    [-0.5, 'P0', 'Double', '-50 %'],
    [1, 'P0', 'Int32', '100 %'],
    [1234.5, 'C', 'Double', '¤1,234.50'],
    [-1234.5, 'C', 'Double', '(¤1,234.50)'],
    [0, 'C0', 'Int32', '¤0'],
    [42, 'D5', 'Int32', '00042'],
    [-42, 'D5', 'Int32', '-00042'],
    [42, 'D', 'Int32', '42'],
    [0, 'D3', 'Int32', '000'],
    [9007199254740993n, 'D', 'Int64', '9007199254740993'],
    [255, 'X', 'Int32', 'FF'],
    [255, 'x4', 'Int32', '00ff'],
    [-1, 'X', 'Int32', 'FFFFFFFF'],
    [-1n, 'X', 'Int64', 'FFFFFFFFFFFFFFFF'],
    [-1, 'X', 'Byte', 'FF'],
    [0.1, 'R', 'Double', '0.1'],
    [1e20, 'R', 'Double', '1E+20'],
    [3.14159, 'G', 'Single', '3.14159'],
    [0.1, 'G', 'Single', '0.1'],
    [1234.5, 'G', 'Decimal', '1234.5'],
    [1e20, 'G', 'Decimal', '100000000000000000000'],
  ])('%s.ToString("%s") as %s → %s', (value, format, kind, expected) => {
    expect(formatNumber(value, format, kind)).toBe(expected);
  });

  it.each<[number, string, NumericKind]>([
    [1.5, 'D', 'Double'],
    [1.5, 'X', 'Double'],
    [1, 'R', 'Int32'],
    [1, 'Q', 'Int32'],
    [1.5, 'Z2', 'Double'],
  ])('%s.ToString("%s") as %s throws FormatException', (value, format, kind) => {
    expect(() => formatNumber(value, format, kind)).toThrow(expect.objectContaining({ typeName: 'FormatException', message: 'Format specifier was invalid.' }));
  });
});

describe('custom numeric format strings', () => {
  it.each<[number, string, NumericKind, string]>([
    [1234.5678, '0.00', 'Double', '1234.57'],
    [1234567.891, '#,##0.##', 'Double', '1,234,567.89'],
    [0.25, '0%', 'Double', '25%'],
    [1.005, '0.00', 'Double', '1.01'], // doubles go through 15 significant digits first
    [-0.001, '0.00', 'Double', '-0.00'],
    [1234567, '#,##0,K', 'Int32', '1,235K'],
    [-5, 'pos;neg', 'Int32', 'neg'],
    [0, 'pos;neg;zero', 'Int32', 'zero'],
    [12345.678, '0.###E+0', 'Double', '1.235E+4'],
    [0.5, '#.##', 'Double', '.5'],
    [0, '#.##', 'Int32', ''],
    [5, '00.00', 'Int32', '05.00'],
    [1234, "'$'#,##0", 'Int32', '$1,234'],
    [-1234, '#,##0;(#,##0)', 'Int32', '(1,234)'],
    [123, '00000', 'Int32', '00123'],
    [1.5, '0', 'Double', '2'],
    [2.5, '0', 'Double', '3'],
    [0.0123, '0.0‰', 'Double', '12.3‰'],
    [1234567890, '#,#', 'Int32', '1,234,567,890'],
    [42, '\\#0', 'Int32', '#42'],
    [1e6, '0,,', 'Double', '1'],
    [12.3456, '00.0', 'Double', '12.3'],
    [-12, '0;-0;zero', 'Int32', '-12'],
    [0.001, '0.00;(0.00);zero', 'Double', 'zero'],
    [1234.5, '#,##0.00 "EUR"', 'Double', '1,234.50 EUR'],
    [0.000123, '0.00e-0', 'Double', '1.23e-4'],
    [-1234.5, '0', 'Double', '-1235'],
    [7, '#', 'Int32', '7'],
    [3.14159, '#.###', 'Double', '3.142'],
  ])('%s.ToString("%s") as %s → %s', (value, format, kind, expected) => {
    expect(formatNumber(value, format, kind)).toBe(expected);
  });
});

describe('String.Format composite formatting', () => {
  it.each<[string, unknown[], string]>([
    ['{0,-10:N2}|{1}', [1234.567, 'ab'], '1,234.57  |ab'],
    ['{{x}} {0}', [1], '{x} 1'],
    ['{0,5}', [true], ' True'],
    ['{0:0.0}', [2], '2.0'],
    ['{1}{0}', ['a', 'b'], 'ba'],
    ['{0}', [null], ''],
    ['[{0}]', [''], '[]'],
    ['{0:yyyy-MM-dd}', [DateTime.create(2024, 3, 5)], '2024-03-05'],
    ['{0:X2}{1:x2}', [10, 255], '0Aff'],
    ['{0,3}|{0,-3}|', [7], '  7|7  |'],
    ['{0}', [1.0], '1'],
    ['{0}', [0.1], '0.1'],
    ['{0:P0}', [0.256], '26 %'],
    ['{0} {1} {2}', [false, 3000000000, -1.5], 'False 3000000000 -1.5'],
    ['{0 }', [1], '1'],
  ])('Format(%j, %s) → %j', (fmt, args, expected) => {
    expect(formatComposite(fmt, args)).toBe(expected);
  });

  it.each<[string, unknown[], string]>([
    ['{0', [1], 'Input string was not in a correct format.'],
    ['}', [], 'Input string was not in a correct format.'],
    ['{a}', [1], 'Input string was not in a correct format.'],
    ['{1}', [1], 'Index (zero based) must be greater than or equal to zero and less than the size of the argument list.'],
    ['{0:N2', [1], 'Input string was not in a correct format.'],
  ])('Format(%j) throws FormatException', (fmt, args, message) => {
    const e = thrown(() => formatComposite(fmt, args));
    expect(e.typeName).toBe('FormatException');
    expect(e.message).toBe(message);
  });

  it('alignment pads, never truncates', () => {
    expect(formatItem('abcdef', 3)).toBe('abcdef');
    expect(formatItem('ab', -4)).toBe('ab  ');
  });

  it('values print the .NET way', () => {
    expect(toDotNetString(true)).toBe('True');
    expect(toDotNetString(undefined)).toBe('');
    expect(toDotNetString(12n)).toBe('12');
    expect(toDotNetString(1e21)).toBe('1E+21');
    expect(toDotNetString(-0)).toBe('-0');
  });
});
