import { describe, expect, it } from 'vitest';
import { HMAC, Guid, Random, createHashAlgorithm, decrypt, encrypt, hashData, type HashName, type RandomSource } from '../../src/dotnet/crypto.js';
import { asBasic, asJwt, tryParseBasic, tryParseJwt } from '../../src/dotnet/jwt.js';
import { BitConverterToString, ToBase64String, UTF8 } from '../../src/dotnet/text.js';
import { thrown } from '../helpers/dotnet.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('hash algorithms (known test vectors)', () => {
  it.each<[HashName, string, string]>([
    ['MD5', '', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['SHA1', 'abc', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['SHA256', 'abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['SHA384', 'abc', 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7'],
    ['SHA512', 'abc', 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f'],
  ])('%s(%j)', (name, input, expected) => {
    expect(hex(createHashAlgorithm(name).ComputeHash(UTF8.GetBytes(input)))).toBe(expected);
    expect(hex(hashData(name, UTF8.GetBytes(input)))).toBe(expected);
  });
  it('ComputeHash(buffer, offset, count) and HashSize', () => {
    const sha = createHashAlgorithm('SHA256');
    expect(hex(sha.ComputeHash(UTF8.GetBytes('xabcx'), 1, 3))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha.HashSize).toBe(256);
  });
  it('HMAC (RFC 4231 style vectors)', () => {
    const key = UTF8.GetBytes('key');
    const msg = UTF8.GetBytes('The quick brown fox jumps over the lazy dog');
    expect(hex(new HMAC('SHA256', key).ComputeHash(msg))).toBe('f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
    expect(hex(new HMAC('SHA1', key).ComputeHash(msg))).toBe('de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9');
    expect(hex(new HMAC('MD5', key).ComputeHash(msg))).toBe('80070713463e7749b90c2dc24911e275');
  });
  it('the AWS SigV4 key chain from the corpus composes', () => {
    const kDate = new HMAC('SHA256', UTF8.GetBytes('AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')).ComputeHash(UTF8.GetBytes('20150830'));
    const kRegion = new HMAC('SHA256', kDate).ComputeHash(UTF8.GetBytes('us-east-1'));
    const kService = new HMAC('SHA256', kRegion).ComputeHash(UTF8.GetBytes('iam'));
    const kSigning = new HMAC('SHA256', kService).ComputeHash(UTF8.GetBytes('aws4_request'));
    // AWS documentation's example signing key.
    expect(hex(kSigning)).toBe('c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
  });
  it('a parameterless HMAC gets a key from the random source', () => {
    const fill: RandomSource = (b) => b.fill(7);
    expect(new HMAC('SHA256', undefined, fill).Key.length).toBe(64);
    expect(new HMAC('SHA512', undefined, fill).Key[0]).toBe(7);
  });
});

describe('Guid', () => {
  it.each<[string, string]>([
    ['3F2504E0-4F89-11D3-9A0C-0305E82C3301', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
    ['{3F2504E0-4F89-11D3-9A0C-0305E82C3301}', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
    ['(3f2504e0-4f89-11d3-9a0c-0305e82c3301)', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
    ['3f2504e04f8911d39a0c0305e82c3301', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
    [' 3f2504e04f8911d39a0c0305e82c3301 ', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
    ['{0x3f2504e0,0x4f89,0x11d3,{0x9a,0x0c,0x03,0x05,0xe8,0x2c,0x33,0x01}}', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
  ])('Parse(%j)', (s, expected) => {
    expect(Guid.Parse(s).ToString()).toBe(expected);
  });
  it('ToString formats', () => {
    const g = Guid.Parse('3f2504e0-4f89-11d3-9a0c-0305e82c3301');
    expect(g.ToString('N')).toBe('3f2504e04f8911d39a0c0305e82c3301');
    expect(g.ToString('B')).toBe('{3f2504e0-4f89-11d3-9a0c-0305e82c3301}');
    expect(g.ToString('P')).toBe('(3f2504e0-4f89-11d3-9a0c-0305e82c3301)');
    expect(g.ToString('X')).toBe('{0x3f2504e0,0x4f89,0x11d3,{0x9a,0x0c,0x03,0x05,0xe8,0x2c,0x33,0x01}}');
    expect(thrown(() => g.ToString('Q')).typeName).toBe('FormatException');
    expect(Guid.Empty.ToString()).toBe('00000000-0000-0000-0000-000000000000');
  });
  it('ToByteArray uses the mixed-endian layout', () => {
    const g = Guid.Parse('00112233-4455-6677-8899-aabbccddeeff');
    expect(BitConverterToString(g.ToByteArray())).toBe('33-22-11-00-55-44-77-66-88-99-AA-BB-CC-DD-EE-FF');
    expect(Guid.fromByteArray(g.ToByteArray()).Equals(g)).toBe(true);
  });
  it('bad text is FormatException; TryParse reports it', () => {
    expect(thrown(() => Guid.Parse('not-a-guid')).message).toBe('Unrecognized Guid format.');
    expect(Guid.TryParse('xyz')).toEqual({ ok: false, value: Guid.Empty });
    expect(thrown(() => Guid.ParseExact('3f2504e04f8911d39a0c0305e82c3301', 'D')).typeName).toBe('FormatException');
  });
  it('NewGuid is a version 4 GUID from the injected random source', () => {
    let n = 0;
    const counter: RandomSource = (b) => b.forEach((_, i) => (b[i] = n++ & 0xff));
    const g = Guid.NewGuid(counter);
    expect(g.ToString()).toBe('00010203-0405-4607-8809-0a0b0c0d0e0f');
    expect(Guid.NewGuid().ToString()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('Random (seeded: .NET legacy algorithm)', () => {
  it('matches values .NET produces for the same seed', () => {
    expect(new Random(0).NextDouble()).toBe(0.7262432699679598);
    expect(new Random(42).Next()).toBe(1434747710);
    expect(new Random(1).Next()).toBe(534011718);
  });
  it('is deterministic per seed and respects ranges', () => {
    const a = new Random(7);
    const b = new Random(7);
    const xs = Array.from({ length: 50 }, () => a.Next(10, 20));
    expect(xs).toEqual(Array.from({ length: 50 }, () => b.Next(10, 20)));
    expect(xs.every((x) => x >= 10 && x < 20)).toBe(true);
    expect(new Random(3).Next(5, 5)).toBe(5);
    const buf = new Uint8Array(8);
    new Random(9).NextBytes(buf);
    expect(buf.some((x) => x !== 0)).toBe(true);
  });
  it('argument checks', () => {
    expect(thrown(() => new Random(1).Next(-1)).message).toBe("'maxValue' must be greater than zero. (Parameter 'maxValue')");
    expect(thrown(() => new Random(1).Next(5, 1)).message).toBe("'minValue' cannot be greater than maxValue. (Parameter 'minValue')");
  });
});

describe('APIM Encrypt / Decrypt', () => {
  const key = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
  const iv = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  it('AES-128-CBC matches the NIST SP 800-38A vector (first block) and round trips with PKCS7', () => {
    const plain = new Uint8Array(Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex'));
    const c = encrypt(plain, 'Aes', key, iv);
    expect(hex(c.subarray(0, 16))).toBe('7649abac8119b246cee98e9b12e9197d');
    expect(c.length).toBe(32); // a full padding block
    expect(hex(decrypt(c, 'Aes', key, iv))).toBe(hex(plain));
  });
  it('errors are CryptographicException / NotSupportedException', () => {
    expect(thrown(() => decrypt(new Uint8Array(16), 'Aes', key, iv)).message).toBe('Padding is invalid and cannot be removed.');
    expect(thrown(() => encrypt(new Uint8Array(1), 'Aes', new Uint8Array(5), iv)).message).toBe('Specified key is not a valid size for this algorithm.');
    expect(thrown(() => encrypt(new Uint8Array(1), 'TripleDES', key, iv)).typeName).toBe('NotSupportedException');
  });
});

function b64url(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

describe('AsJwt', () => {
  const header = { alg: 'RS256', typ: 'JWT', kid: 'nOo3ZDrODXEK1jKWhXslHR_KXEg' };
  const payload = {
    aud: ['api://gateway', 'api://other'],
    iss: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
    iat: 1700000000,
    nbf: 1700000000,
    exp: 1700003600,
    jti: 'b0a9c5e2-6a8d-4d3e-9a1f-0c9d8e7f6a5b',
    sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    roles: ['Reader', 'Writer'],
    name: 'Ann Lee',
    ver: '2.0',
    email_verified: true,
    quota: 42,
  };
  const token = `${b64url(header)}.${b64url(payload)}.${Buffer.from('not-a-real-signature').toString('base64url')}`;

  it('reads the standard claims', () => {
    const jwt = asJwt(token)!;
    expect(jwt.Algorithm).toBe('RS256');
    expect(jwt.Type).toBe('JWT');
    expect(jwt.Issuer).toBe(payload.iss);
    expect(jwt.Subject).toBe(payload.sub);
    expect(jwt.Id).toBe(payload.jti);
    expect(jwt.Audiences).toEqual(['api://gateway', 'api://other']);
    expect(jwt.ExpirationTime!.toDotNetString('o')).toBe('2023-11-14T23:13:20.0000000Z');
    expect(jwt.NotBefore!.toDotNetString('o')).toBe('2023-11-14T22:13:20.0000000Z');
    expect(jwt.IssuedAt!.Kind).toBe('Utc');
  });
  it('Claims values are string arrays and GetValueOrDefault joins them with commas', () => {
    const c = asJwt(token)!.Claims;
    expect(c.get('roles')).toEqual(['Reader', 'Writer']);
    expect(c.GetValueOrDefault('roles')).toBe('Reader,Writer');
    expect(c.GetValueOrDefault('name', 'x')).toBe('Ann Lee');
    expect(c.GetValueOrDefault('missing', 'fallback')).toBe('fallback');
    expect(c.GetValueOrDefault('missing')).toBeNull();
    expect(c.GetValueOrDefault('quota')).toBe('42');
    expect(c.GetValueOrDefault('email_verified')).toBe('true');
    expect(c.ContainsKey('exp')).toBe(true);
  });
  it('an unsigned token (empty signature) still parses', () => {
    expect(asJwt(`${b64url({ alg: 'none' })}.${b64url({ sub: 'x' })}.`)!.Subject).toBe('x');
  });
  it('an Authorization value "Bearer <token>" parses as its token (Microsoft\'s rate-limit-by-key sample keys on Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)', () => {
    expect(asJwt(`Bearer ${token}`)!.Subject).toBe(asJwt(token)!.Subject);
    expect(asJwt(`bearer  ${token}`)!.Subject).toBe(asJwt(token)!.Subject);
    expect(tryParseJwt(`Bearer ${token}`).ok).toBe(true);
  });
  it.each<[string | null]>([
    [null],
    [''],
    ['abc'],
    ['a.b'],
    ['a.b.c'],
    ['Bearer abc'],
    [`Basic ${token}`],
    [`${b64url([1])}.${b64url({})}.`],
    [`${token}.extra.parts`],
  ])('not a JWT: %j', (s) => {
    expect(asJwt(s)).toBeNull();
    expect(tryParseJwt(s).ok).toBe(false);
  });
  it('TryParseJwt returns the token', () => {
    expect(tryParseJwt(token).value!.Subject).toBe(payload.sub);
  });
});

describe('AsBasic', () => {
  const header = `Basic ${ToBase64String(UTF8.GetBytes('ann:p:ss'))}`;
  it('splits at the first colon', () => {
    expect(asBasic(header)).toEqual({ UserId: 'ann', Password: 'p:ss' });
    expect(asBasic(`basic ${ToBase64String(UTF8.GetBytes('u:'))}`)).toEqual({ UserId: 'u', Password: '' });
  });
  it.each<[string | null]>([[null], [''], ['Basic'], ['Bearer abc'], ['Basic !!!'], [`Basic ${ToBase64String(UTF8.GetBytes('nocolon'))}`]])(
    'not basic credentials: %j',
    (s) => {
      expect(asBasic(s)).toBeNull();
      expect(tryParseBasic(s).ok).toBe(false);
    },
  );
});
