import { describe, expect, it } from 'vitest';
import { Match, Regex, RegexOptions, RegexUnsupportedError, translateRegex } from '../../src/dotnet/regex.js';
import { thrown } from '../helpers/dotnet.js';

const { IgnoreCase, Multiline, Singleline, ExplicitCapture, IgnorePatternWhitespace } = RegexOptions;

describe('IsMatch with .NET semantics', () => {
  it.each<[string, number, string, boolean]>([
    ['^abc$', 0, 'abc', true],
    ['^abc$', 0, 'abc\n', true], // $ also matches before a final newline
    ['^abc$', 0, 'abc\n\n', false],
    ['^abc\\z', 0, 'abc\n', false],
    ['^abc\\Z', 0, 'abc\n', true],
    ['\\Aabc', 0, 'xabc', false],
    ['\\Aabc', Multiline, 'x\nabc', false],
    ['^abc', Multiline, 'x\nabc', true],
    ['^abc', 0, 'x\nabc', false],
    ['x$', Multiline, 'x\ny', true],
    ['x$', Multiline, 'x\ry', false], // only \n ends a line in .NET
    ['a.b', 0, 'a\nb', false],
    ['a.b', 0, 'a\rb', true], // . excludes only \n in .NET
    ['a.b', Singleline, 'a\nb', true],
    ['abc', IgnoreCase, 'ABC', true],
    ['(?i)abc', 0, 'ABC', true],
    ['(?i)^a(?i:b)c$', 0, 'ABC', true],
    ['(?s)a.b', 0, 'a\nb', true],
    ['(?m)^b', 0, 'a\nb', true],
    ['a b # comment', IgnorePatternWhitespace, 'ab', true],
    ['(?x) a [ ] b', 0, 'a b', true],
    ['%[0-9A-Fa-f]{2}', 0, 'a%2Fb', true],
    ['^[\\w.-]+@[\\w-]+\\.[a-z]{2,}$', 0, 'ann.lee@example.com', true],
    ['[]a]', 0, ']', true],
    ['[^]a]', 0, ']', false],
    ['\\e', 0, '\x1b', true],
    ['(?<=\\$)\\d+', 0, 'cost $42', true],
    ['(?<!-)\\b\\d+', 0, '-5', false],
    ['(a)\\1', 0, 'aa', true],
    ['(?<q>[\'"]).*\\k<q>', 0, '"x"', true],
    ["(?'q'x)\\k'q'", 0, 'xx', true],
    ['(?#just a comment)abc', 0, 'abc', true],
    ['^\\d{3}-\\d{4}$', 0, '555-1234', true],
    ['^(?:Bearer|Basic) ', IgnoreCase, 'bearer abc', true],
  ])('%j (options %s) on %j → %s', (pattern, options, input, expected) => {
    expect(new Regex(pattern, options).IsMatch(input)).toBe(expected);
    expect(Regex.IsMatch(input, pattern, options)).toBe(expected);
  });
});

describe('Match and groups', () => {
  it('numbers unnamed groups before named groups, like .NET', () => {
    const r = new Regex('(?<year>\\d{4})-(\\d{2})');
    const m = r.Match('on 2024-03 and 2025-12');
    expect([m.Success, m.Value, m.Index, m.Length]).toEqual([true, '2024-03', 3, 7]);
    expect(m.Groups.get(1).Value).toBe('03');
    expect(m.Groups.get(2).Value).toBe('2024');
    expect(m.Groups.get('year').Value).toBe('2024');
    expect(m.Groups.get('year').Name).toBe('year');
    expect(m.Groups.get(0).Value).toBe('2024-03');
    expect(m.Groups.Count).toBe(3);
    expect(r.GetGroupNames()).toEqual(['0', '1', 'year']);
    expect(r.GetGroupNumbers()).toEqual([0, 1, 2]);
    expect(r.GroupNumberFromName('year')).toBe(2);
    const next = m.NextMatch();
    expect(next.Value).toBe('2025-12');
    expect(next.NextMatch().Success).toBe(false);
  });

  it('unknown or non-participating groups are unsuccessful and empty', () => {
    const m = Regex.Match('ac', 'a(b)?c');
    expect(m.Groups.get(1).Success).toBe(false);
    expect(m.Groups.get(1).Value).toBe('');
    expect(m.Groups.get('nope').Success).toBe(false);
    expect(m.Groups.get(1).Captures).toEqual([]);
  });

  it('a failed match is Match.Empty-like', () => {
    const m = Regex.Match('xyz', '\\d');
    expect([m.Success, m.Value, m.Index, m.Length]).toEqual([false, '', 0, 0]);
    expect(Match.Empty.Success).toBe(false);
  });

  it('ExplicitCapture turns unnamed groups into non-capturing ones', () => {
    const r = new Regex('(a)(?<n>b)', ExplicitCapture);
    const m = r.Match('ab');
    expect(r.GetGroupNames()).toEqual(['0', 'n']);
    expect(m.Groups.get(1).Value).toBe('b');
  });

  it('Matches walks every match, including empty ones', () => {
    expect([...Regex.Matches('a1b22c333', '\\d+')].map((m) => m.Value)).toEqual(['1', '22', '333']);
    expect(Regex.Matches('abc', 'x*').Count).toBe(4);
    expect(Regex.Matches('l1\nl2\nl3', '^l\\d$', Multiline).Count).toBe(3);
    expect(Regex.Matches('aaa', 'a', 0).get(2).Index).toBe(2);
  });

  it('Match(input, startat)', () => {
    expect(new Regex('\\d').Match('1a2', 1).Value).toBe('2');
    expect(thrown(() => new Regex('a').Match('abc', 4)).typeName).toBe('ArgumentOutOfRangeException');
  });

  it('Result expands substitutions', () => {
    expect(Regex.Match('John Smith', '(\\w+) (\\w+)').Result('$2, $1')).toBe('Smith, John');
  });

  it('the real corpus token pattern works', () => {
    // From the AI-Gateway labs: extracting a bearer token from an Authorization header.
    const m = Regex.Match('Bearer eyJhbGciOi.abc.def', '^Bearer\\s+(?<token>\\S+)$', IgnoreCase);
    expect(m.Groups.get('token').Value).toBe('eyJhbGciOi.abc.def');
  });
});

describe('Replace', () => {
  it.each<[string, string, string, string]>([
    ['2024-03', '(?<y>\\d{4})-(\\d{2})', '${y}/$1', '2024/03'],
    ['2024-03', '(?<y>\\d{4})-(\\d{2})', '$2', '2024'],
    ['abc', 'b', '$$', 'a$c'],
    ['abc', 'b', '[$&]', 'a[b]c'],
    ['abc', 'b', '$`', 'aac'],
    ['abc', 'b', "$'", 'acc'],
    ['abc', 'b', '$_', 'aabcc'],
    ['abc', '(b)', '$+', 'abc'],
    ['abc', 'b', '$9', 'a$9c'],
    ['abc', '(b)', '$10', 'ab0c'],
    ['abc', 'b', '${nope}', 'a${nope}c'],
    ['a.b.c', '\\.', '-', 'a-b-c'],
    ['aaa', 'a*', 'X', 'XX'],
    ['Hello World', '(?i)o', '0', 'Hell0 W0rld'],
  ])('Replace(%j, %j, %j) → %j', (input, pattern, replacement, expected) => {
    expect(Regex.Replace(input, pattern, replacement)).toBe(expected);
  });
  it('MatchEvaluator callbacks', () => {
    expect(Regex.Replace('a1b2', '\\d', (m) => String(Number(m.Value) * 2))).toBe('a2b4');
  });
  it('count and startat', () => {
    expect(new Regex('a').Replace('aaaa', 'b', 2)).toBe('bbaa');
    expect(new Regex('a').Replace('aaaa', 'b', -1, 2)).toBe('aabb');
  });
});

describe('Split', () => {
  it.each<[string, string, string[]]>([
    ['a1b2c', '\\d', ['a', 'b', 'c']],
    ['a1b2c', '(\\d)', ['a', '1', 'b', '2', 'c']],
    ['abc', '', ['', 'a', 'b', 'c', '']],
    ['a,b;;c', '[,;]', ['a', 'b', '', 'c']],
    ['no-match', 'x', ['no-match']],
    [',a,', ',', ['', 'a', '']],
  ])('Split(%j, %j)', (input, pattern, expected) => {
    expect(Regex.Split(input, pattern)).toEqual(expected);
  });
  it('count limits the pieces', () => {
    expect(new Regex(',').Split('a,b,c,d', 2)).toEqual(['a', 'b,c,d']);
  });
});

describe('Escape / Unescape', () => {
  it.each<[string, string]>([
    ['a.b*c', 'a\\.b\\*c'],
    ['(d) #e', '\\(d\\)\\ \\#e'],
    ['[x]{1}', '\\[x]\\{1}'],
    ['a\tb\n', 'a\\tb\\n'],
    ['$^|?+\\', '\\$\\^\\|\\?\\+\\\\'],
  ])('Escape(%j) → %j', (s, expected) => {
    expect(Regex.Escape(s)).toBe(expected);
    expect(Regex.Unescape(expected)).toBe(s);
    expect(Regex.IsMatch(s, '^' + Regex.Escape(s) + '$')).toBe(true);
  });
  it('Unescape escapes', () => {
    expect(Regex.Unescape('\\x41\\u0042\\cC\\101\\.')).toBe('AB\x03A.');
    expect(thrown(() => Regex.Unescape('abc\\')).typeName).toBe('RegexParseException');
  });
});

describe('unsupported constructs and bad patterns', () => {
  it.each<[string, number, number]>([
    ['(?>a)', 0, 0],
    ['x(?(a)b|c)', 0, 1],
    ['(?<a-b>x)', 0, 0],
    ['\\p{IsGreek}+', 0, 0],
    ['[a-z-[aeiou]]', 0, 4],
    ['\\Gx', 0, 0],
    ['a(?i)b', 0, 1],
    ['(?<1>x)', 0, 0],
    ['(?<n>a)(?<n>b)', 0, 7],
    ['abc', RegexOptions.RightToLeft, 0],
  ])('%j is rejected with its offset', (pattern, options, offset) => {
    try {
      translateRegex(pattern, options);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RegexUnsupportedError);
      expect((e as RegexUnsupportedError).offset).toBe(offset);
      expect((e as RegexUnsupportedError).message).toContain('is not supported by the emulator');
    }
  });
  it.each<[string, string]>([
    ['(a', "Invalid pattern '(a' at offset 2. Not enough )'s."],
    ['a)', "Invalid pattern 'a)' at offset 2. Too many )'s."],
    ['*a', "Invalid pattern '*a' at offset 2. Quantifier following nothing."],
    ['[abc', "Invalid pattern '[abc' at offset 4. Unterminated [] set."],
    ['(a)\\2', "Invalid pattern '(a)\\2' at offset 4. Reference to undefined group number 2."],
    ['abc\\', "Invalid pattern 'abc\\' at offset 4. Illegal \\ at end of pattern."],
  ])('%j is RegexParseException', (pattern, message) => {
    const e = thrown(() => new Regex(pattern));
    expect(e.typeName).toBe('RegexParseException');
    expect(e.message).toBe(message);
  });
  it('translations are cached and reusable', () => {
    const a = new Regex('(?<x>\\d)+');
    const b = new Regex('(?<x>\\d)+');
    expect(a.Match('a12').Groups.get('x').Value).toBe('2');
    expect(b.Match('34').Value).toBe('34');
  });
  it('null input is ArgumentNullException', () => {
    expect(thrown(() => new Regex('a').IsMatch(null)).message).toBe("Value cannot be null. (Parameter 'input')");
  });
});
