/**
 * .NET's character classes are Unicode-aware unless RegexOptions.ECMAScript is set. Source: "Character classes in
 * regular expressions" on learn.microsoft.com: \d is \p{Nd}; \w is [\p{L}\p{Mn}\p{Nd}\p{Pc}]; \s is
 * [\f\n\r\t\v\x85\p{Z}]; \b is the boundary between \w and \W; with ECMAScript, \w is [a-zA-Z_0-9], \s is
 * [ \f\n\r\t\v], \d is [0-9]. The same answers are expected on every engine the emulator uses (JS RegExp, re2js for
 * patterns that could backtrack badly, JS under a time limit for risky patterns with lookaround).
 */
import { describe, expect, it } from 'vitest';
import { Regex, RegexOptions } from '../../src/dotnet/regex.js';

const ECMA = RegexOptions.ECMAScript;

describe('Unicode classes match .NET', () => {
  it.each<[string, number, string, boolean]>([
    ['^\\d+$', 0, '١٢٣', true], // ARABIC-INDIC DIGITS are Nd
    ['^\\d+$', ECMA, '١٢٣', false],
    ['^\\d+$', 0, '²', false], // SUPERSCRIPT TWO is No, not Nd
    ['^\\w+$', 0, 'Straße_é', true],
    ['^\\w+$', ECMA, 'Straße', false],
    ['^\\w+$', 0, 'a‿b', true], // U+203F UNDERTIE is Pc
    ['^\\w$', 0, '\u0301', true], // COMBINING ACUTE ACCENT is Mn
    ['^\\w$', 0, '\u0903', false], // DEVANAGARI SIGN VISARGA is Mc, not in \w
    ['\\s', 0, '\u2003', true], // EM SPACE is Zs
    ['\\s', 0, '\u0085', true], // NEXT LINE is in .NET's \s
    ['\\s', 0, '\ufeff', false], // BOM is Cf: JS counts it as white space, .NET does not
    ['\\s', ECMA, '\u2003', false],
    ['\\bcafé\\b', 0, 'un café noir', true],
    ['\\bcaf\\b', 0, 'un café noir', false], // é is a word character, so no boundary after "caf"
    ['\\bcaf\\b', ECMA, 'un café noir', true],
    ['\\Bé', 0, 'café', true],
    ['^[\\w-]+$', 0, 'ab-çd', true],
    ['^[^\\d]+$', 0, 'abc٣', false],
    ['^[\\W]+$', 0, '!? ', true],
    ['^[\\S]+$', 0, 'a\u2003', false],
    ['^\\p{Lu}+$', 0, 'ÉCOLE', true],
    ['^\\P{L}+$', 0, '123!', true],
    ['^[\\p{Lu}\\d]+$', 0, 'A١B', true],
  ])('%s (options %i) on %j → %s', (pattern, options, input, expected) => {
    expect(new Regex(pattern, options).IsMatch(input)).toBe(expected);
  });

  it('the same classes hold on the linear-time engine (re2js) and on the timed JS engine', () => {
    const re2 = new Regex('^(\\w+\\s?)+$');
    expect(re2.engine).toBe('re2');
    expect(re2.IsMatch('grüße ١٢ naïve')).toBe(true);
    expect(re2.IsMatch('a\ufeffb')).toBe(false);
    expect(re2.IsMatch('é'.repeat(3000) + '!')).toBe(false);
    const digits = new Regex('^(\\d+)+$');
    expect(digits.engine).toBe('re2');
    expect(digits.IsMatch('١٢٣')).toBe(true);
    const timed = new Regex('^(\\w+\\b)+$');
    expect(timed.engine).toBe('js-timeout'); // \b is a lookaround, which RE2 cannot express
    expect(timed.IsMatch('naïve')).toBe(true);
  });

  it('Match returns .NET indexes with Unicode classes', () => {
    const m = new Regex('(?<word>\\w+)').Match('¿Qué tal?');
    expect([m.Index, m.Value]).toEqual([1, 'Qué']);
  });
});
