import { describe, expect, it } from 'vitest';
import {
  convertToBoolean,
  convertToDouble,
  convertToInt32,
  convertToInt32FromBase,
  convertToInt64,
  mathRound,
  parseBoolean,
  parseDecimal,
  parseDouble,
  parseInt32,
  parseInt64,
  tryParseInt32,
} from '../../src/dotnet/numbers.js';
import * as S from '../../src/dotnet/strings.js';
import { thrown } from '../helpers/dotnet.js';

describe('Substring', () => {
  it.each<[string, number, number | undefined, string]>([
    ['hello', 1, undefined, 'ello'],
    ['hello', 1, 3, 'ell'],
    ['hello', 5, undefined, ''],
    ['hello', 0, 5, 'hello'],
    ['hello', 5, 0, ''],
  ])('%j.Substring(%s, %s) → %j', (s, a, b, expected) => {
    expect(S.substring(s, a, b)).toBe(expected);
  });
  it.each<[number, number | undefined, string]>([
    [-1, undefined, "StartIndex cannot be less than zero. (Parameter 'startIndex')"],
    [6, undefined, "startIndex cannot be larger than length of string. (Parameter 'startIndex')"],
    [1, -1, "Length cannot be less than zero. (Parameter 'length')"],
    [2, 4, "Index and length must refer to a location within the string. (Parameter 'length')"],
  ])('"hello".Substring(%s, %s) throws', (a, b, message) => {
    const e = thrown(() => S.substring('hello', a, b));
    expect(e.typeName).toBe('ArgumentOutOfRangeException');
    expect(e.message).toBe(message);
  });
});

describe('searching', () => {
  it.each<[() => number, number]>([
    [() => S.indexOf('hello', 'l'), 2],
    [() => S.indexOf('hello', 'l', 3), 3],
    [() => S.indexOf('hello', 'L'), -1],
    [() => S.indexOf('hello', 'L', 0, 'OrdinalIgnoreCase'), 2],
    [() => S.indexOf('hello', ''), 0],
    [() => S.indexOf('hello', 'lo', 0, 'Ordinal', 4), -1],
    [() => S.lastIndexOf('hello', 'l'), 3],
    [() => S.lastIndexOf('hello', 'l', 2), 2],
    [() => S.lastIndexOf('hello', 'll', 2), -1],
    [() => S.lastIndexOf('hello', 'll', 3), 2],
    [() => S.indexOfAny('a,b;c', [';', ',']), 1],
    [() => S.indexOfAny('abc', ['x']), -1],
  ])('%s → %s', (fn, expected) => {
    expect(fn()).toBe(expected);
  });
  it('IndexOf argument errors', () => {
    expect(thrown(() => S.indexOf('abc', null)).message).toBe("Value cannot be null. (Parameter 'value')");
    expect(thrown(() => S.indexOf('abc', 'a', 4)).typeName).toBe('ArgumentOutOfRangeException');
  });
  it.each<[() => boolean, boolean]>([
    [() => S.contains('Hello', 'ell'), true],
    [() => S.contains('Hello', 'ELL'), false],
    [() => S.contains('Hello', 'ELL', 'OrdinalIgnoreCase'), true],
    [() => S.startsWith('Bearer xyz', 'Bearer '), true],
    [() => S.startsWith('bearer xyz', 'Bearer ', 'OrdinalIgnoreCase'), true],
    [() => S.startsWith('bearer xyz', 'Bearer ', 'InvariantCultureIgnoreCase'), true],
    [() => S.startsWith('bearer xyz', 'Bearer '), false],
    [() => S.endsWith('file.JSON', '.json', 'CurrentCultureIgnoreCase'), true],
    [() => S.endsWith('file.json', '.xml'), false],
    [() => S.startsWith('abc', ''), true],
  ])('%s → %s', (fn, expected) => {
    expect(fn()).toBe(expected);
  });
});

describe('comparison', () => {
  it.each<[string | null, string | null, S.StringComparison, boolean]>([
    ['abc', 'ABC', 'Ordinal', false],
    ['abc', 'ABC', 'OrdinalIgnoreCase', true],
    ['abc', 'ABC', 'InvariantCultureIgnoreCase', true],
    ['abc', 'ABC', 'CurrentCultureIgnoreCase', true],
    ['abc', 'abc', 'Ordinal', true],
    [null, null, 'Ordinal', true],
    [null, 'a', 'OrdinalIgnoreCase', false],
    ['straße', 'STRASSE', 'OrdinalIgnoreCase', false],
  ])('Equals(%j, %j, %s) → %s', (a, b, c, expected) => {
    expect(S.equals(a, b, c)).toBe(expected);
  });
  it.each<[string | null, string | null, boolean | S.StringComparison, number]>([
    ['a', 'B', 'CurrentCulture', -1],
    ['a', 'B', 'Ordinal', 31],
    ['B', 'a', 'OrdinalIgnoreCase', 1],
    ['a', 'A', 'CurrentCulture', -1],
    ['a', 'A', true, 0],
    ['abc', 'abd', 'Ordinal', -1],
    ['ab', 'abc', 'Ordinal', -1],
    [null, 'a', 'CurrentCulture', -1],
    ['a', null, 'Ordinal', 1],
  ])('Compare(%j, %j, %s) → %s', (a, b, how, expected) => {
    expect(S.compare(a, b, how)).toBe(expected);
  });
});

describe('Split', () => {
  it.each<[() => string[], string[]]>([
    [() => S.splitChars('a,b,,c', [',']), ['a', 'b', '', 'c']],
    [() => S.splitChars('a,b,,c', [','], undefined, 'RemoveEmptyEntries'), ['a', 'b', 'c']],
    [() => S.splitChars('a, b ,c', [','], undefined, 'TrimEntries'), ['a', 'b', 'c']],
    [() => S.splitChars(' a , , b ', [','], undefined, 'RemoveEmptyEntries, TrimEntries'), ['a', 'b']],
    [() => S.splitChars('a=b=c', ['='], 2), ['a', 'b=c']],
    [() => S.splitChars('a,,b,c', [','], 2, 'RemoveEmptyEntries'), ['a', 'b,c']],
    [() => S.splitChars('a b\tc\nd', null), ['a', 'b', 'c', 'd']],
    [() => S.splitChars('a;b,c', [';', ',']), ['a', 'b', 'c']],
    [() => S.splitChars('', [',']), ['']],
    [() => S.splitChars('', [','], undefined, 'RemoveEmptyEntries'), []],
    [() => S.splitChars('abc', [','], 0), []],
    [() => S.splitChars('abc', [','], 1), ['abc']],
    [() => S.splitStrings('a::b::c', '::'), ['a', 'b', 'c']],
    [() => S.splitStrings('a--b-c', ['--', '-']), ['a', 'b', 'c']],
    [() => S.splitStrings('a<br>b<br/>c', ['<br>', '<br/>'], undefined, 'None'), ['a', 'b', 'c']],
    [() => S.splitStrings('abc', ''), ['abc']],
    [() => S.splitStrings('key=a=b', '=', 2), ['key', 'a=b']],
    [() => S.splitStrings('Bearer  token', ' ', undefined, 'RemoveEmptyEntries'), ['Bearer', 'token']],
  ])('%s', (fn, expected) => {
    expect(fn()).toEqual(expected);
  });
  it('negative count is ArgumentOutOfRangeException', () => {
    expect(thrown(() => S.splitChars('a', [','], -1)).message).toBe("Count cannot be less than zero. (Parameter 'count')");
  });
});

describe('Join, Concat, Trim, Pad, Replace, Insert, Remove', () => {
  it.each<[() => string, string]>([
    [() => S.join(',', ['a', null, 1, true, 1.5]), 'a,,1,True,1.5'],
    [() => S.join(', ', []), ''],
    [() => S.concat('a', null, 2, false), 'a2False'],
    [() => S.trim('  x \t\n'), 'x'],
    [() => S.trim('\u00a0x\u2003'), 'x'],
    [() => S.trim('\ufeffx'), '\ufeffx'],
    [() => S.trim('--x--', ['-']), 'x'],
    [() => S.trimStart('  x  '), 'x  '],
    [() => S.trimEnd('x//', ['/']), 'x'],
    [() => S.trimEnd('/path/', ['/', '\\']), '/path'],
    [() => S.padLeft('7', 3, '0'), '007'],
    [() => S.padRight('ab', 4), 'ab  '],
    [() => S.padLeft('abcd', 2), 'abcd'],
    [() => S.replace('a-b-c', '-', '+'), 'a+b+c'],
    [() => S.replace('aaa', 'aa', 'b'), 'ba'],
    [() => S.replace('a-b', '-', null), 'ab'],
    [() => S.replace('Hello hello', 'HELLO', 'x', 'OrdinalIgnoreCase'), 'x x'],
    [() => S.insert('abc', 1, 'X'), 'aXbc'],
    [() => S.remove('abcdef', 3), 'abc'],
    [() => S.remove('abcdef', 1, 2), 'adef'],
    [() => S.toUpperInvariant('abc'), 'ABC'],
    [() => S.toLowerInvariant('ÀB'), 'àb'],
    [() => S.format('{0}-{1}', 'a', 2), 'a-2'],
    [() => S.repeatChar('=', 3), '==='],
    [() => S.charAt('abc', 1), 'b'],
  ])('%s', (fn, expected) => {
    expect(fn()).toBe(expected);
  });
  it('argument errors', () => {
    expect(thrown(() => S.replace('a', '', 'b')).message).toBe("String cannot be of zero length. (Parameter 'oldValue')");
    expect(thrown(() => S.replace('a', null, 'b')).typeName).toBe('ArgumentNullException');
    expect(thrown(() => S.padLeft('a', -1)).message).toBe("Non-negative number required. (Parameter 'totalWidth')");
    expect(thrown(() => S.remove('abc', 3)).message).toBe("startIndex must be less than length of string. (Parameter 'startIndex')");
    expect(thrown(() => S.remove('abc', 1, 5)).message).toBe("Index and count must refer to a location within the string. (Parameter 'count')");
    expect(thrown(() => S.insert('abc', 4, 'x')).typeName).toBe('ArgumentOutOfRangeException');
    expect(thrown(() => S.charAt('abc', 3)).message).toBe('Index was outside the bounds of the array.');
    expect(thrown(() => S.join(',', null)).typeName).toBe('ArgumentNullException');
    expect(thrown(() => S.format(null)).typeName).toBe('ArgumentNullException');
  });
  it('IsNullOrEmpty / IsNullOrWhiteSpace / ToCharArray', () => {
    expect([S.isNullOrEmpty(null), S.isNullOrEmpty(''), S.isNullOrEmpty(' ')]).toEqual([true, true, false]);
    expect([S.isNullOrWhiteSpace(null), S.isNullOrWhiteSpace(' \t\n'), S.isNullOrWhiteSpace(' x ')]).toEqual([true, true, false]);
    expect(S.toCharArray('ab')).toEqual(['a', 'b']);
  });
});

describe('number parsing', () => {
  it.each<[string, number]>([
    ['42', 42],
    ['  -42  ', -42],
    ['+7', 7],
    ['2147483647', 2147483647],
    ['-2147483648', -2147483648],
    ['007', 7],
  ])('Int32.Parse(%j) → %s', (s, expected) => {
    expect(parseInt32(s)).toBe(expected);
  });
  it.each<[string | null, string, string]>([
    ['2147483648', 'OverflowException', 'Value was either too large or too small for an Int32.'],
    ['abc', 'FormatException', 'Input string was not in a correct format.'],
    ['1.5', 'FormatException', 'Input string was not in a correct format.'],
    ['', 'FormatException', 'Input string was not in a correct format.'],
    ['1,000', 'FormatException', 'Input string was not in a correct format.'],
    [null, 'ArgumentNullException', "Value cannot be null. (Parameter 's')"],
  ])('Int32.Parse(%j) throws %s', (s, type, message) => {
    const e = thrown(() => parseInt32(s));
    expect(e.typeName).toBe(type);
    expect(e.message).toBe(message);
    expect(tryParseInt32(s)).toEqual({ ok: false, value: 0 });
  });
  it('Int64.Parse keeps all 64 bits', () => {
    expect(parseInt64('9223372036854775807')).toBe(9223372036854775807n);
    expect(thrown(() => parseInt64('9223372036854775808')).message).toBe('Value was either too large or too small for an Int64.');
  });
  it.each<[string, number]>([
    ['1.5', 1.5],
    ['-1.5e3', -1500],
    ['1,234.5', 1234.5],
    ['.5', 0.5],
    ['5.', 5],
    [' 12 ', 12],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['1e400', Infinity],
  ])('Double.Parse(%j) → %s', (s, expected) => {
    expect(parseDouble(s)).toBe(expected);
  });
  it('Double.Parse and Decimal.Parse errors', () => {
    expect(thrown(() => parseDouble('1.2.3')).typeName).toBe('FormatException');
    expect(thrown(() => parseDouble('')).typeName).toBe('FormatException');
    expect(thrown(() => parseDecimal('1e5')).typeName).toBe('FormatException');
    expect(parseDecimal('12.50')).toBe(12.5);
  });
  it.each<[string, boolean]>([
    ['True', true],
    ['true', true],
    ['FALSE', false],
    ['  false ', false],
  ])('Boolean.Parse(%j) → %s', (s, expected) => {
    expect(parseBoolean(s)).toBe(expected);
  });
  it('Boolean.Parse rejects other words', () => {
    expect(thrown(() => parseBoolean('yes')).message).toBe("String 'yes' was not recognized as a valid Boolean.");
    expect(thrown(() => parseBoolean('1')).typeName).toBe('FormatException');
  });
});

describe('Convert and Math.Round', () => {
  it.each<[unknown, number]>([
    [2.5, 2],
    [3.5, 4],
    [-2.5, -2],
    [2.4999, 2],
    [2.6, 3],
    ['12', 12],
    [true, 1],
    [null, 0],
    [7n, 7],
  ])('Convert.ToInt32(%s) → %s', (v, expected) => {
    expect(convertToInt32(v)).toBe(expected);
  });
  it('Convert.ToInt32 overflow and bad input', () => {
    expect(thrown(() => convertToInt32(2147483647.5)).typeName).toBe('OverflowException');
    expect(thrown(() => convertToInt32('x')).typeName).toBe('FormatException');
    expect(thrown(() => convertToInt32({})).typeName).toBe('InvalidCastException');
  });
  it('other conversions', () => {
    expect(convertToInt64(2.5)).toBe(2n);
    expect(convertToDouble('1.25')).toBe(1.25);
    expect(convertToBoolean('False')).toBe(false);
    expect(convertToBoolean(0.1)).toBe(true);
    expect(convertToInt32FromBase('ff', 16)).toBe(255);
    expect(convertToInt32FromBase('FFFFFFFF', 16)).toBe(-1);
    expect(convertToInt32FromBase('101', 2)).toBe(5);
    expect(thrown(() => convertToInt32FromBase('12', 3)).message).toBe('Invalid Base.');
  });
  it.each<[number, number | undefined, 'ToEven' | 'AwayFromZero' | undefined, number]>([
    [2.5, undefined, undefined, 2],
    [3.5, undefined, undefined, 4],
    [-2.5, undefined, undefined, -2],
    [2.5, 0, 'AwayFromZero', 3],
    [-2.5, 0, 'AwayFromZero', -3],
    [1.2345, 2, undefined, 1.23],
    [1.235, 2, 'AwayFromZero', 1.24],
    [21.456, 1, undefined, 21.5],
    [0.125, 2, undefined, 0.12],
  ])('Math.Round(%s, %s, %s) → %s', (x, d, mode, expected) => {
    expect(mathRound(x, d, mode)).toBe(expected);
  });
});

describe('invariant case mapping is 1:1', () => {
  it('ß stays ß, unlike JS toUpperCase', () => {
    expect(S.toUpperInvariant('straße')).toBe('STRAßE');
    expect(S.equals('STRASSE', 'straße', 'OrdinalIgnoreCase')).toBe(false);
  });
});
