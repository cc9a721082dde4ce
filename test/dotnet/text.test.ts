import { describe, expect, it } from 'vitest';
import * as T from '../../src/dotnet/text.js';
import { thrown } from '../helpers/dotnet.js';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('Encoding', () => {
  it.each<[string, number[]]>([
    ['', []],
    ['A', [0x41]],
    ['é', [0xc3, 0xa9]],
    ['€', [0xe2, 0x82, 0xac]],
    ['😀', [0xf0, 0x9f, 0x98, 0x80]],
    ['\ud800', [0xef, 0xbf, 0xbd]],
  ])('UTF8.GetBytes(%j)', (s, expected) => {
    expect([...T.UTF8.GetBytes(s)]).toEqual(expected);
  });
  it.each<[number[], string]>([
    [[0x68, 0x69], 'hi'],
    [[0xc3, 0xa9], 'é'],
    [[0xff], '\ufffd'],
    [[0xef, 0xbb, 0xbf, 0x41], '\ufeffA'],
  ])('UTF8.GetString(%j)', (b, expected) => {
    expect(T.UTF8.GetString(bytes(...b))).toBe(expected);
  });
  it('round trips text through every encoding', () => {
    for (const s of ['hello', 'naïve – ünïcödé', '日本語', '😀 emoji']) {
      expect(T.UTF8.GetString(T.UTF8.GetBytes(s))).toBe(s);
      expect(T.Unicode.GetString(T.Unicode.GetBytes(s))).toBe(s);
    }
  });
  it('ASCII replaces non-ASCII with ?', () => {
    expect([...T.ASCII.GetBytes('aé😀')]).toEqual([0x61, 0x3f, 0x3f]);
    expect(T.ASCII.GetString(bytes(0x61, 0xe9))).toBe('a?');
  });
  it('Unicode is UTF-16LE', () => {
    expect([...T.Unicode.GetBytes('A€')]).toEqual([0x41, 0x00, 0xac, 0x20]);
    expect(T.Unicode.GetByteCount('abc')).toBe(6);
  });
  it('GetString(bytes, index, count) and GetByteCount', () => {
    expect(T.UTF8.GetString(bytes(0x61, 0x62, 0x63), 1, 1)).toBe('b');
    expect(T.UTF8.GetByteCount('é')).toBe(2);
    expect(thrown(() => T.UTF8.GetString(bytes(1), 0, 2)).typeName).toBe('ArgumentOutOfRangeException');
    expect(thrown(() => T.UTF8.GetBytes(null)).typeName).toBe('ArgumentNullException');
  });
});

describe('Convert Base64 and hex', () => {
  it.each<[number[], string]>([
    [[], ''],
    [[1, 2, 3], 'AQID'],
    [[0xff], '/w=='],
    [[0xfb, 0xff], '+/8='],
    [[...Buffer.from('user:pass')], 'dXNlcjpwYXNz'],
  ])('ToBase64String(%j) ↔ %j', (b, s) => {
    expect(T.ToBase64String(bytes(...b))).toBe(s);
    expect([...T.FromBase64String(s)]).toEqual(b);
  });
  it('ToBase64String(bytes, offset, length)', () => {
    expect(T.ToBase64String(bytes(0, 1, 2, 3), 1, 3)).toBe('AQID');
  });
  it('FromBase64String ignores white space', () => {
    expect([...T.FromBase64String(' AQ\r\nID ')]).toEqual([1, 2, 3]);
  });
  it.each(['abc', 'ab=c', '@@@@', 'AQID=', 'A===', '-_8='])('FromBase64String(%j) is FormatException', (s) => {
    const e = thrown(() => T.FromBase64String(s));
    expect(e.typeName).toBe('FormatException');
    expect(e.message).toBe(
      'The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.',
    );
  });
  it('hex strings', () => {
    expect(T.ToHexString(bytes(0x0a, 0xff))).toBe('0AFF');
    expect([...T.FromHexString('0aFF')]).toEqual([10, 255]);
    expect(thrown(() => T.FromHexString('abc')).message).toBe('The input is not a valid hex string as its length is not a multiple of 2.');
    expect(thrown(() => T.FromHexString('zz')).message).toBe('The input is not a valid hex string as it contains a non-hex character.');
  });
  it('Convert.ToInt32 etc. are reachable from text.ts', () => {
    expect(T.ToInt32('5')).toBe(5);
    expect(T.ToString(true)).toBe('True');
    expect(T.ToDouble('0.5')).toBe(0.5);
  });
});

describe('BitConverter', () => {
  it('ToString uses uppercase pairs joined by dashes', () => {
    expect(T.BitConverterToString(bytes(0x0a, 0x1b, 0xff))).toBe('0A-1B-FF');
    expect(T.BitConverterToString(bytes())).toBe('');
    expect(T.BitConverterToString(bytes(1, 2, 3), 1)).toBe('02-03');
    expect(T.BitConverterToString(bytes(1, 2, 3), 0, 2)).toBe('01-02');
  });
  it('GetBytes is little endian', () => {
    expect([...T.BitConverterGetBytes(1)]).toEqual([1, 0, 0, 0]);
    expect([...T.BitConverterGetBytes(-1)]).toEqual([255, 255, 255, 255]);
    expect([...T.BitConverterGetBytes(258n)]).toEqual([2, 1, 0, 0, 0, 0, 0, 0]);
    expect([...T.BitConverterGetBytes(true)]).toEqual([1]);
  });
});

describe('StringBuilder', () => {
  it('appends values the .NET way', () => {
    const sb = new T.StringBuilder('x');
    sb.Append(1).Append(true).Append(null).Append(1.5).AppendFormat('[{0:N1}]', 1234.56).AppendLine('!').Append('-', 3);
    expect(sb.ToString()).toBe('x1True1.5[1,234.6]!\r\n---');
    expect(sb.Length).toBe(sb.ToString().length);
  });
  it('Insert / Remove / Replace / Clear / ToString(start, length)', () => {
    const sb = new T.StringBuilder('hello world');
    sb.Insert(0, '>').Remove(1, 1).Replace('o', '0');
    expect(sb.ToString()).toBe('>ell0 w0rld');
    expect(sb.ToString(1, 4)).toBe('ell0');
    sb.Length = 3;
    expect(sb.ToString()).toBe('>el');
    expect(sb.Clear().Length).toBe(0);
    expect(thrown(() => sb.Remove(0, 1)).typeName).toBe('ArgumentOutOfRangeException');
  });
});

describe('WebUtility', () => {
  it.each<[string, string]>([
    ['a b', 'a+b'],
    ['a&b=c/d?e', 'a%26b%3Dc%2Fd%3Fe'],
    ['é', '%C3%A9'],
    ['-_.!*()', '-_.!*()'],
    ['~', '%7E'],
    ['', ''],
  ])('UrlEncode(%j) → %j', (s, expected) => {
    expect(T.UrlEncode(s)).toBe(expected);
  });
  it.each<[string, string]>([
    ['a+b', 'a b'],
    ['a%26b', 'a&b'],
    ['%C3%A9', 'é'],
    ['%zz', '%zz'],
    ['100%', '100%'],
    ['%e9', '\ufffd'],
  ])('UrlDecode(%j) → %j', (s, expected) => {
    expect(T.UrlDecode(s)).toBe(expected);
  });
  it('HtmlEncode / HtmlDecode', () => {
    expect(T.HtmlEncode(`<a href="x">&'é</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&#233;&lt;/a&gt;');
    expect(T.HtmlEncode('😀')).toBe('&#128512;');
    expect(T.HtmlDecode('&lt;b&gt; &amp; &#233; &#x41; &unknown;')).toBe('<b> & é A &unknown;');
    expect(T.UrlEncode(null)).toBeNull();
  });
});

describe('Uri', () => {
  const u = new T.Uri('https://Example.com/a b/c?x=1&y=%2F#frag');
  it.each<[keyof T.Uri, unknown]>([
    ['Scheme', 'https'],
    ['Host', 'example.com'],
    ['Port', 443],
    ['IsDefaultPort', true],
    ['AbsolutePath', '/a%20b/c'],
    ['Query', '?x=1&y=%2F'],
    ['Fragment', '#frag'],
    ['PathAndQuery', '/a%20b/c?x=1&y=%2F'],
    ['AbsoluteUri', 'https://example.com/a%20b/c?x=1&y=%2F#frag'],
    ['Authority', 'example.com'],
    ['Segments', ['/', 'a%20b/', 'c']],
  ])('%s', (prop, expected) => {
    expect(u[prop]).toEqual(expected);
  });
  it('ToString unescapes safe characters, explicit ports stay', () => {
    expect(u.ToString()).toBe('https://example.com/a b/c?x=1&y=%2F#frag');
    const p = new T.Uri('http://localhost:8080/api');
    expect([p.Port, p.IsDefaultPort, p.Authority, p.GetLeftPart('Authority'), p.GetLeftPart('Path')]).toEqual([
      8080,
      false,
      'localhost:8080',
      'http://localhost:8080',
      'http://localhost:8080/api',
    ]);
  });
  it('relative or empty strings are UriFormatException', () => {
    expect(thrown(() => new T.Uri('/relative')).message).toBe('Invalid URI: The format of the URI could not be determined.');
    expect(thrown(() => new T.Uri('')).message).toBe('Invalid URI: The URI is empty.');
    expect(T.Uri.TryCreate('nope').ok).toBe(false);
    expect(T.Uri.IsWellFormedUriString('https://x.io/a')).toBe(true);
    expect(T.Uri.IsWellFormedUriString('https://x.io/a b')).toBe(false);
  });
  it.each<[string, string]>([
    ['a b/c?d=é', 'a%20b%2Fc%3Fd%3D%C3%A9'],
    ['-_.~', '-_.~'],
    ["!*'()", '%21%2A%27%28%29'],
    ['', ''],
  ])('EscapeDataString(%j) → %j and back', (s, escaped) => {
    expect(T.EscapeDataString(s)).toBe(escaped);
    expect(T.UnescapeDataString(escaped)).toBe(s);
  });
  it('UnescapeDataString keeps + and malformed escapes', () => {
    expect(T.UnescapeDataString('a+b%2x')).toBe('a+b%2x');
  });
});
