/**
 * DateTime / TimeSpan / DateTimeOffset (on the injected clock), Guid, Encoding, Convert base64, StringBuilder,
 * WebUtility, Uri, Regex, hashing/HMAC, byte[].Encrypt/Decrypt and APIM's AsJwt/AsBasic helpers.
 */
import { DateTime, DateTimeOffset, TimeSpan } from '../../dotnet/datetime.js';
import { DotNetException } from '../../dotnet/exceptions.js';
import * as crypto from '../../dotnet/crypto.js';
import { Regex, Match, Group, Capture, GroupCollection, MatchCollection, RegexOptions } from '../../dotnet/regex.js';
import * as text from '../../dotnet/text.js';
import { asBasic, asJwt, BasicAuthCredentials, Jwt, tryParseBasic, tryParseJwt } from '../../dotnet/jwt.js';
import type { GatewayContext } from '../../engine/context.js';
import { arrayOf, enumerableOf, named, nullableOf, T, type CsType } from '../types.js';
import { defineOperator } from '../operators.js';
import { normLong, toCsString, type LongValue } from '../runtime.js';
import { defineType, type Member } from './registry.js';
import { method, opt, out, overloads, prop, rest, sig } from './sig.js';
import { defineEnum, plain } from './core.js';
import { multiMapType } from './context.js';

const S = T.string;
const I = T.int;
const D = T.double;
const B = T.bool;
const DT = T.DateTime;
const TS = T.TimeSpan;
const DTO = named('DateTimeOffset');
const BYTES = T.bytes;
const O = T.object;
const SYM = named('SymmetricAlgorithm');
/** A long result: exact beyond 2^53 (Ticks of any date today are ~6.4e17), as every long is (docs/expressions.md). */
const toLong = (v: bigint | number): LongValue => (typeof v === 'bigint' ? normLong(v) : v);
/** Tick arguments arrive exact too (sig.ts: exactLong). */
const EXACT = { exactLong: true } as const;
const KINDS = ['Unspecified', 'Utc', 'Local'] as const;

// ---- DateTime ------------------------------------------------------------------------------------------------------
const dtProps: Record<string, Member> = {};
for (const p of ['Year', 'Month', 'Day', 'Hour', 'Minute', 'Second', 'Millisecond', 'DayOfYear'] as const) dtProps[p] = prop(I, (d: DateTime) => d[p]);
defineType({
  name: 'DateTime',
  aliases: ['System.DateTime'],
  isInstance: (v) => v instanceof DateTime,
  defaultValue: DateTime.MinValue,
  ctor: (site) =>
    overloads(
      sig([T.long], DT, (t: LongValue) => DateTime.fromTicks(t), EXACT),
      sig([T.long, named('DateTimeKind')], DT, (t: LongValue, k: number) => DateTime.fromTicks(t, KINDS[k]), EXACT),
      sig([I, I, I], DT, (y: number, m: number, d: number) => DateTime.create(y, m, d)),
      sig([I, I, I, I, I, I], DT, (y: number, m: number, d: number, h: number, mi: number, s: number) => DateTime.create(y, m, d, h, mi, s)),
      sig([I, I, I, I, I, I, named('DateTimeKind')], DT, (y: number, m: number, d: number, h: number, mi: number, s: number, k: number) =>
        DateTime.create(y, m, d, h, mi, s, 0, KINDS[k]),
      ),
      sig([I, I, I, I, I, I, I], DT, (y: number, m: number, d: number, h: number, mi: number, s: number, ms: number) => DateTime.create(y, m, d, h, mi, s, ms)),
      sig([I, I, I, I, I, I, I, named('DateTimeKind')], DT, (y: number, m: number, d: number, h: number, mi: number, s: number, ms: number, k: number) =>
        DateTime.create(y, m, d, h, mi, s, ms, KINDS[k]),
      ),
    )(site),
  instance: {
    ...dtProps,
    DayOfWeek: prop(named('DayOfWeek'), (d: DateTime) => d.DayOfWeek),
    Date: prop(DT, (d: DateTime) => d.Date),
    TimeOfDay: prop(TS, (d: DateTime) => d.TimeOfDay),
    Ticks: prop(T.long, (d: DateTime) => toLong(d.Ticks)),
    Kind: prop(named('DateTimeKind'), (d: DateTime) => KINDS.indexOf(d.Kind)),
    Add: method(sig([TS], DT, (d: DateTime, t: TimeSpan) => d.Add(t))),
    AddTicks: method(sig([T.long], DT, (d: DateTime, v: LongValue) => d.AddTicks(v), EXACT)),
    AddMilliseconds: method(sig([D], DT, (d: DateTime, v: number) => d.AddMilliseconds(v))),
    AddSeconds: method(sig([D], DT, (d: DateTime, v: number) => d.AddSeconds(v))),
    AddMinutes: method(sig([D], DT, (d: DateTime, v: number) => d.AddMinutes(v))),
    AddHours: method(sig([D], DT, (d: DateTime, v: number) => d.AddHours(v))),
    AddDays: method(sig([D], DT, (d: DateTime, v: number) => d.AddDays(v))),
    AddMonths: method(sig([I], DT, (d: DateTime, v: number) => d.AddMonths(v))),
    AddYears: method(sig([I], DT, (d: DateTime, v: number) => d.AddYears(v))),
    Subtract: method(
      sig([DT], TS, (d: DateTime, o: DateTime) => d.Subtract(o)),
      sig([TS], DT, (d: DateTime, o: TimeSpan) => d.Subtract(o)),
    ),
    CompareTo: method(sig([DT], I, (d: DateTime, o: DateTime) => d.CompareTo(o))),
    Equals: method(sig([DT], B, (d: DateTime, o: DateTime) => d.Equals(o))),
    ToUniversalTime: method(sig([], DT, (d: DateTime) => d.ToUniversalTime())),
    ToLocalTime: method(sig([], DT, (d: DateTime) => d.ToLocalTime())),
    IsDaylightSavingTime: method(sig([], B, (d: DateTime) => d.IsDaylightSavingTime())),
    ToString: method(
      sig([], S, (d: DateTime) => d.toDotNetString()),
      sig([S], S, (d: DateTime, f: string | null) => d.toDotNetString(f ?? undefined)),
      sig([S, named('IFormatProvider')], S, (d: DateTime, f: string | null) => d.toDotNetString(f ?? undefined)),
    ),
    ToShortDateString: method(sig([], S, (d: DateTime) => d.toDotNetString('d'))),
    ToLongDateString: method(sig([], S, (d: DateTime) => d.toDotNetString('D'))),
    ToShortTimeString: method(sig([], S, (d: DateTime) => d.toDotNetString('t'))),
    ToLongTimeString: method(sig([], S, (d: DateTime) => d.toDotNetString('T'))),
    ToFileTimeUtc: method(sig([], T.long, (d: DateTime) => toLong(d.Ticks - 504911232000000000n))),
  },
  statics: {
    UtcNow: prop(DT, (_o: unknown, ctx: GatewayContext) => DateTime.UtcNow(ctx.clock.now()), undefined, true),
    Now: prop(DT, (_o: unknown, ctx: GatewayContext) => DateTime.Now(ctx.clock.now()), undefined, true),
    Today: prop(DT, (_o: unknown, ctx: GatewayContext) => DateTime.Today(ctx.clock.now()), undefined, true),
    MinValue: prop(DT, () => DateTime.MinValue, undefined, true),
    MaxValue: prop(DT, () => DateTime.MaxValue, undefined, true),
    UnixEpoch: prop(DT, () => DateTime.UnixEpoch, undefined, true),
    Parse: method(
      sig([S], DT, (s: string | null) => DateTime.Parse(s)),
      sig([S, named('IFormatProvider')], DT, (s: string | null) => DateTime.Parse(s)),
    ),
    TryParse: method(
      sig([S, out(DT)], B, (s: string | null, set: (v: unknown) => void) => {
        const r = DateTime.TryParse(s);
        set(r.value);
        return r.ok;
      }),
    ),
    ParseExact: method(
      sig([S, S, named('IFormatProvider')], DT, (s: string | null, f: string | null) => DateTime.ParseExact(s, f)),
      sig([S, S], DT, (s: string | null, f: string | null) => DateTime.ParseExact(s, f)),
    ),
    IsLeapYear: method(sig([I], B, (y: number) => DateTime.IsLeapYear(y))),
    DaysInMonth: method(sig([I, I], I, (y: number, m: number) => DateTime.DaysInMonth(y, m))),
    SpecifyKind: method(sig([DT, named('DateTimeKind')], DT, (d: DateTime, k: number) => DateTime.SpecifyKind(d, KINDS[k]!))),
    Compare: method(sig([DT, DT], I, (a: DateTime, b: DateTime) => DateTime.Compare(a, b))),
  },
});
const cmpDt = (a: DateTime, b: DateTime): number => a.CompareTo(b);
defineOperator('-', 'DateTime', 'DateTime', { type: TS, fn: (a: DateTime, b: DateTime) => a.Subtract(b) });
defineOperator('-', 'DateTime', 'TimeSpan', { type: DT, fn: (a: DateTime, b: TimeSpan) => a.Subtract(b) });
defineOperator('+', 'DateTime', 'TimeSpan', { type: DT, fn: (a: DateTime, b: TimeSpan) => a.Add(b) });
defineOperator('+', 'TimeSpan', 'TimeSpan', { type: TS, fn: (a: TimeSpan, b: TimeSpan) => a.Add(b) });
defineOperator('-', 'TimeSpan', 'TimeSpan', { type: TS, fn: (a: TimeSpan, b: TimeSpan) => a.Subtract(b) });
// DateTimeOffset operators (.NET API reference, DateTimeOffset.op_Subtraction / op_Addition)
defineOperator('-', 'DateTimeOffset', 'DateTimeOffset', { type: TS, fn: (a: DateTimeOffset, b: DateTimeOffset) => new TimeSpan(a.UtcTicks - b.UtcTicks) });
defineOperator('-', 'DateTimeOffset', 'TimeSpan', { type: named('DateTimeOffset'), fn: (a: DateTimeOffset, b: TimeSpan) => a.Add(new TimeSpan(-b.ticks)) });
defineOperator('+', 'DateTimeOffset', 'TimeSpan', { type: named('DateTimeOffset'), fn: (a: DateTimeOffset, b: TimeSpan) => a.Add(b) });
for (const [op, test] of [
  ['<', (c: number) => c < 0],
  ['>', (c: number) => c > 0],
  ['<=', (c: number) => c <= 0],
  ['>=', (c: number) => c >= 0],
  ['==', (c: number) => c === 0],
] as const) {
  defineOperator(op, 'DateTime', 'DateTime', { type: B, fn: (a: DateTime, b: DateTime) => test(cmpDt(a, b)), liftNull: false });
  defineOperator(op, 'TimeSpan', 'TimeSpan', { type: B, fn: (a: TimeSpan, b: TimeSpan) => test(a.CompareTo(b)), liftNull: false });
  defineOperator(op, 'DateTimeOffset', 'DateTimeOffset', {
    type: B,
    fn: (a: DateTimeOffset, b: DateTimeOffset) => test(Number(a.UtcTicks - b.UtcTicks)),
    liftNull: false,
  });
}

// ---- TimeSpan ---------------------------------------------------------------------------------------------------------
const tsProps: Record<string, Member> = {};
for (const p of ['Days', 'Hours', 'Minutes', 'Seconds', 'Milliseconds'] as const) tsProps[p] = prop(I, (t: TimeSpan) => t[p]);
for (const p of ['TotalDays', 'TotalHours', 'TotalMinutes', 'TotalSeconds', 'TotalMilliseconds'] as const) tsProps[p] = prop(D, (t: TimeSpan) => t[p]);
defineType({
  name: 'TimeSpan',
  aliases: ['System.TimeSpan'],
  isInstance: (v) => v instanceof TimeSpan,
  defaultValue: TimeSpan.Zero,
  ctor: (site) =>
    overloads(
      sig([T.long], TS, (t: LongValue) => TimeSpan.FromTicks(t), EXACT),
      sig([I, I, I], TS, (h: number, m: number, s: number) => TimeSpan.create(0, h, m, s)),
      sig([I, I, I, I], TS, (d: number, h: number, m: number, s: number) => TimeSpan.create(d, h, m, s)),
      sig([I, I, I, I, I], TS, (d: number, h: number, m: number, s: number, ms: number) => TimeSpan.create(d, h, m, s, ms)),
    )(site),
  instance: {
    ...tsProps,
    Ticks: prop(T.long, (t: TimeSpan) => toLong(t.Ticks)),
    Add: method(sig([TS], TS, (a: TimeSpan, b: TimeSpan) => a.Add(b))),
    Subtract: method(sig([TS], TS, (a: TimeSpan, b: TimeSpan) => a.Subtract(b))),
    Negate: method(sig([], TS, (a: TimeSpan) => a.Negate())),
    Duration: method(sig([], TS, (a: TimeSpan) => a.Duration())),
    CompareTo: method(sig([TS], I, (a: TimeSpan, b: TimeSpan) => a.CompareTo(b))),
    ToString: method(
      sig([], S, (t: TimeSpan) => t.toDotNetString()),
      sig([S], S, (t: TimeSpan, f: string | null) => t.toDotNetString(f ?? undefined)),
    ),
  },
  statics: {
    Zero: prop(TS, () => TimeSpan.Zero, undefined, true),
    TicksPerMillisecond: prop(T.long, () => 10_000),
    TicksPerSecond: prop(T.long, () => 10_000_000),
    TicksPerMinute: prop(T.long, () => 600_000_000),
    TicksPerHour: prop(T.long, () => 36_000_000_000),
    TicksPerDay: prop(T.long, () => 864_000_000_000),
    MaxValue: prop(TS, () => TimeSpan.MaxValue),
    MinValue: prop(TS, () => TimeSpan.MinValue),
    FromDays: method(sig([D], TS, (v: number) => TimeSpan.FromDays(v))),
    FromHours: method(sig([D], TS, (v: number) => TimeSpan.FromHours(v))),
    FromMinutes: method(sig([D], TS, (v: number) => TimeSpan.FromMinutes(v))),
    FromSeconds: method(sig([D], TS, (v: number) => TimeSpan.FromSeconds(v))),
    FromMilliseconds: method(sig([D], TS, (v: number) => TimeSpan.FromMilliseconds(v))),
    FromTicks: method(sig([T.long], TS, (v: LongValue) => TimeSpan.FromTicks(v), EXACT)),
    Parse: method(sig([S], TS, (s: string | null) => TimeSpan.Parse(s))),
    TryParse: method(
      sig([S, out(TS)], B, (s: string | null, set: (v: unknown) => void) => {
        const r = TimeSpan.TryParse(s);
        set(r.value);
        return r.ok;
      }),
    ),
  },
});

defineType({
  name: 'DateTimeOffset',
  aliases: ['System.DateTimeOffset'],
  isInstance: (v) => v instanceof DateTimeOffset,
  defaultValue: DateTimeOffset.FromUnixTimeSeconds(-62135596800),
  // every public constructor of System.DateTimeOffset that takes no Calendar
  ctor: (site) =>
    overloads(
      sig([DT], DTO, (d: DateTime) => DateTimeOffset.fromDateTime(d)),
      sig([DT, TS], DTO, (d: DateTime, o: TimeSpan) => DateTimeOffset.fromDateTime(d, o)),
      sig([T.long, TS], DTO, (t: LongValue, o: TimeSpan) => DateTimeOffset.fromTicks(BigInt(t), o), EXACT),
      sig([I, I, I, I, I, I, TS], DTO, (y: number, m: number, d: number, h: number, mi: number, s: number, o: TimeSpan) =>
        DateTimeOffset.fromDateTime(DateTime.create(y, m, d, h, mi, s), o),
      ),
      sig([I, I, I, I, I, I, I, TS], DTO, (y: number, m: number, d: number, h: number, mi: number, s: number, ms: number, o: TimeSpan) =>
        DateTimeOffset.fromDateTime(DateTime.create(y, m, d, h, mi, s, ms), o),
      ),
    )(site),
  instance: {
    Add: method(sig([TS], DTO, (d: DateTimeOffset, v: TimeSpan) => d.Add(v))),
    AddTicks: method(sig([T.long], DTO, (d: DateTimeOffset, v: LongValue) => d.AddTicks(v), EXACT)),
    AddMilliseconds: method(sig([D], DTO, (d: DateTimeOffset, v: number) => d.AddMilliseconds(v))),
    AddSeconds: method(sig([D], DTO, (d: DateTimeOffset, v: number) => d.AddSeconds(v))),
    AddMinutes: method(sig([D], DTO, (d: DateTimeOffset, v: number) => d.AddMinutes(v))),
    AddHours: method(sig([D], DTO, (d: DateTimeOffset, v: number) => d.AddHours(v))),
    AddDays: method(sig([D], DTO, (d: DateTimeOffset, v: number) => d.AddDays(v))),
    AddMonths: method(sig([I], DTO, (d: DateTimeOffset, v: number) => d.AddMonths(v))),
    AddYears: method(sig([I], DTO, (d: DateTimeOffset, v: number) => d.AddYears(v))),
    Subtract: method(
      sig([DTO], TS, (d: DateTimeOffset, o: DateTimeOffset) => new TimeSpan(d.UtcTicks - o.UtcTicks)),
      sig([TS], DTO, (d: DateTimeOffset, o: TimeSpan) => d.Add(new TimeSpan(-o.ticks))),
    ),
    ToOffset: method(sig([TS], DTO, (d: DateTimeOffset, o: TimeSpan) => d.ToOffset(o))),
    ToUniversalTime: method(sig([], DTO, (d: DateTimeOffset) => d.ToUniversalTime())),
    CompareTo: method(sig([DTO], I, (d: DateTimeOffset, o: DateTimeOffset) => d.CompareTo(o))),
    Equals: method(sig([DTO], B, (d: DateTimeOffset, o: DateTimeOffset) => d.Equals(o))),
    Year: prop(I, (d: DateTimeOffset) => d.Year),
    Month: prop(I, (d: DateTimeOffset) => d.Month),
    Day: prop(I, (d: DateTimeOffset) => d.Day),
    Hour: prop(I, (d: DateTimeOffset) => d.Hour),
    Minute: prop(I, (d: DateTimeOffset) => d.Minute),
    Second: prop(I, (d: DateTimeOffset) => d.Second),
    Millisecond: prop(I, (d: DateTimeOffset) => d.Millisecond),
    Ticks: prop(T.long, (d: DateTimeOffset) => toLong(d.Ticks)),
    Date: prop(DT, (d: DateTimeOffset) => d.DateTime.Date),
    ToUnixTimeSeconds: method(sig([], T.long, (d: DateTimeOffset) => toLong(d.ToUnixTimeSeconds()))),
    ToUnixTimeMilliseconds: method(sig([], T.long, (d: DateTimeOffset) => toLong(d.ToUnixTimeMilliseconds()))),
    UtcDateTime: prop(DT, (d: DateTimeOffset) => d.UtcDateTime),
    DateTime: prop(DT, (d: DateTimeOffset) => d.DateTime),
    LocalDateTime: prop(DT, (d: DateTimeOffset) => d.LocalDateTime),
    Offset: prop(TS, (d: DateTimeOffset) => d.Offset),
    UtcTicks: prop(T.long, (d: DateTimeOffset) => toLong(d.UtcTicks)),
    ToString: method(
      sig([], S, (d: DateTimeOffset) => d.toDotNetString()),
      sig([S], S, (d: DateTimeOffset, f: string | null) => d.toDotNetString(f ?? undefined)),
    ),
  },
  statics: {
    UtcNow: prop(DTO, (_o: unknown, ctx: GatewayContext) => DateTimeOffset.UtcNow(ctx.clock.now()), undefined, true),
    Now: prop(DTO, (_o: unknown, ctx: GatewayContext) => DateTimeOffset.Now(ctx.clock.now()), undefined, true),
    FromUnixTimeSeconds: method(sig([T.long], DTO, (v: number) => DateTimeOffset.FromUnixTimeSeconds(v))),
    FromUnixTimeMilliseconds: method(sig([T.long], DTO, (v: number) => DateTimeOffset.FromUnixTimeMilliseconds(v))),
    Parse: method(sig([S], DTO, (s: string) => DateTimeOffset.Parse(s))),
  },
});

// ---- Guid ----------------------------------------------------------------------------------------------------------------
const G = T.Guid;
defineType({
  name: 'Guid',
  aliases: ['System.Guid'],
  isInstance: (v) => v instanceof crypto.Guid,
  defaultValue: crypto.Guid.Empty,
  ctor: (site) =>
    overloads(
      sig([S], G, (s: string | null) => crypto.Guid.Parse(s)),
      sig([], G, () => crypto.Guid.Empty),
    )(site),
  instance: {
    ToString: method(
      sig([], S, (g: crypto.Guid) => g.ToString()),
      sig([S], S, (g: crypto.Guid, f: string | null) => g.ToString(f)),
    ),
    ToByteArray: method(sig([], BYTES, (g: crypto.Guid) => g.ToByteArray())),
    Equals: method(sig([G], B, (a: crypto.Guid, b: crypto.Guid) => a.Equals(b))),
    CompareTo: method(sig([G], I, (a: crypto.Guid, b: crypto.Guid) => a.CompareTo(b))),
  },
  statics: {
    NewGuid: method(sig([], G, () => crypto.Guid.NewGuid())),
    Empty: prop(G, () => crypto.Guid.Empty, undefined, true),
    Parse: method(sig([S], G, (s: string | null) => crypto.Guid.Parse(s))),
    TryParse: method(
      sig([S, out(G)], B, (s: string | null, set: (v: unknown) => void) => {
        const r = crypto.Guid.TryParse(s);
        set(r.value);
        return r.ok;
      }),
    ),
  },
});
defineOperator('==', 'Guid', 'Guid', { type: B, fn: (a: crypto.Guid, b: crypto.Guid) => a.Equals(b) });

// ---- Encoding, Convert base64, BitConverter, StringBuilder --------------------------------------------------------------
const EncT = named('Encoding');
defineType({
  name: 'Encoding',
  aliases: ['System.Text.Encoding'],
  isInstance: (v) => v === text.UTF8 || v === text.ASCII || v === text.Unicode,
  instance: {
    GetBytes: method(sig([S], BYTES, (e: text.Encoding, s: string | null) => e.GetBytes(s))),
    GetString: method(
      sig([BYTES], S, (e: text.Encoding, b: Uint8Array | null) => e.GetString(b)),
      sig([BYTES, I, I], S, (e: text.Encoding, b: Uint8Array | null, i: number, c: number) => e.GetString(b, i, c)),
    ),
    GetByteCount: method(sig([S], I, (e: text.Encoding, s: string | null) => e.GetByteCount(s))),
    WebName: prop(S, (e: text.Encoding) => e.WebName),
  },
  statics: {
    UTF8: prop(EncT, () => text.UTF8, undefined, true),
    ASCII: prop(EncT, () => text.ASCII, undefined, true),
    Unicode: prop(EncT, () => text.Unicode, undefined, true),
    Default: prop(EncT, () => text.UTF8, undefined, true),
  },
});
defineType({
  name: 'Convert',
  statics: {
    ToBase64String: method(
      sig([BYTES], S, (b: Uint8Array | null) => text.ToBase64String(b)),
      sig([BYTES, I, I], S, (b: Uint8Array | null, o: number, l: number) => text.ToBase64String(b, o, l)),
    ),
    FromBase64String: method(sig([S], BYTES, (s: string | null) => text.FromBase64String(s))),
    ToHexString: method(sig([BYTES], S, (b: Uint8Array | null) => text.ToHexString(b))),
    FromHexString: method(sig([S], BYTES, (s: string | null) => text.FromHexString(s))),
  },
});
defineType({
  name: 'BitConverter',
  statics: {
    ToString: method(
      sig([BYTES], S, (b: Uint8Array | null) => text.BitConverterToString(b)),
      sig([BYTES, I], S, (b: Uint8Array | null, s: number) => text.BitConverterToString(b, s)),
      sig([BYTES, I, I], S, (b: Uint8Array | null, s: number, l: number) => text.BitConverterToString(b, s, l)),
    ),
  },
});
const SB = named('StringBuilder');
defineType({
  name: 'StringBuilder',
  aliases: ['System.Text.StringBuilder'],
  isInstance: (v) => v instanceof text.StringBuilder,
  ctor: (site) =>
    overloads(
      sig([], SB, () => new text.StringBuilder()),
      sig([S], SB, (s: string | null) => new text.StringBuilder(s)),
      sig([I], SB, () => new text.StringBuilder()),
    )(site),
  instance: {
    Length: prop(
      I,
      (b: text.StringBuilder) => b.Length,
      (b: text.StringBuilder, v: unknown) => {
        b.Length = v as number;
      },
    ),
    Append: method(
      sig([S], SB, (b: text.StringBuilder, v: string | null) => b.Append(v)),
      sig([T.char], SB, (b: text.StringBuilder, v: number) => b.Append(String.fromCharCode(v))),
      sig([T.char, I], SB, (b: text.StringBuilder, v: number, n: number) => b.Append(String.fromCharCode(v), n)),
      sig([O], SB, (b: text.StringBuilder, v: unknown) => b.Append(toCsString(v))),
    ),
    AppendLine: method(
      sig([], SB, (b: text.StringBuilder) => b.AppendLine()),
      sig([S], SB, (b: text.StringBuilder, v: string | null) => b.AppendLine(v)),
    ),
    AppendFormat: method(sig([S, rest(O)], SB, (b: text.StringBuilder, f: string, a: unknown[]) => b.AppendFormat(f, ...a.map(plain)))),
    Insert: method(sig([I, S], SB, (b: text.StringBuilder, i: number, v: string | null) => b.Insert(i, v))),
    Remove: method(sig([I, I], SB, (b: text.StringBuilder, i: number, n: number) => b.Remove(i, n))),
    Replace: method(sig([S, S], SB, (b: text.StringBuilder, a: string, c: string | null) => b.Replace(a, c))),
    Clear: method(sig([], SB, (b: text.StringBuilder) => b.Clear())),
    ToString: method(
      sig([], S, (b: text.StringBuilder) => b.ToString()),
      sig([I, I], S, (b: text.StringBuilder, i: number, n: number) => b.ToString(i, n)),
    ),
  },
});

// ---- WebUtility, Uri --------------------------------------------------------------------------------------------------
defineType({
  name: 'WebUtility',
  aliases: ['System.Net.WebUtility'],
  statics: {
    UrlEncode: method(sig([S], S, (s: string | null) => text.UrlEncode(s))),
    UrlDecode: method(sig([S], S, (s: string | null) => text.UrlDecode(s))),
    HtmlEncode: method(sig([S], S, (s: string | null) => text.HtmlEncode(s))),
    HtmlDecode: method(sig([S], S, (s: string | null) => text.HtmlDecode(s))),
  },
});
const UriT = named('Uri');
const uriProps: Record<string, Member> = {};
for (const p of ['Scheme', 'Host', 'AbsolutePath', 'Query', 'Fragment', 'PathAndQuery', 'Authority', 'UserInfo', 'AbsoluteUri', 'OriginalString'] as const)
  uriProps[p] = prop(S, (u: text.Uri) => u[p]);
defineType({
  name: 'Uri',
  aliases: ['System.Uri'],
  isInstance: (v) => v instanceof text.Uri,
  ctor: (site) =>
    overloads(
      sig([S], UriT, (s: string | null) => {
        if (s === null) throw new DotNetException('ArgumentNullException', "Value cannot be null. (Parameter 'uriString')");
        return new text.Uri(s);
      }),
    )(site),
  instance: {
    ...uriProps,
    Port: prop(I, (u: text.Uri) => u.Port),
    IsDefaultPort: prop(B, (u: text.Uri) => u.IsDefaultPort),
    IsAbsoluteUri: prop(B, (u: text.Uri) => u.IsAbsoluteUri),
    Segments: prop(T.strings, (u: text.Uri) => u.Segments),
    GetLeftPart: method(sig([named('UriPartial')], S, (u: text.Uri, p: number) => u.GetLeftPart((['Scheme', 'Authority', 'Path', 'Query'] as const)[p]!))),
    ToString: method(sig([], S, (u: text.Uri) => u.ToString())),
  },
  statics: {
    EscapeDataString: method(sig([S], S, (s: string | null) => text.Uri.EscapeDataString(s))),
    UnescapeDataString: method(sig([S], S, (s: string | null) => text.Uri.UnescapeDataString(s))),
    IsWellFormedUriString: method(sig([S, named('UriKind')], B, (s: string | null) => text.Uri.IsWellFormedUriString(s))),
    TryCreate: method(
      sig([S, named('UriKind'), out(UriT)], B, (s: string | null, _k: number, set: (v: unknown) => void) => {
        const r = text.Uri.TryCreate(s);
        set(r.value);
        return r.ok;
      }),
    ),
  },
});
defineEnum('UriKind', { RelativeOrAbsolute: 0, Absolute: 1, Relative: 2 }, ['System.UriKind']);

// ---- Regex ---------------------------------------------------------------------------------------------------------------
defineEnum('RegexOptions', { ...RegexOptions }, ['System.Text.RegularExpressions.RegexOptions'], true);
const RX = named('Regex');
const MT = named('Match');
const GT = named('Group');
const RO = named('RegexOptions');
const evaluator = named('MatchEvaluator');
defineType({
  name: 'Regex',
  aliases: ['System.Text.RegularExpressions.Regex'],
  isInstance: (v) => v instanceof Regex,
  ctor: (site) =>
    overloads(
      sig([S], RX, (p: string) => new Regex(p)),
      sig([S, RO], RX, (p: string, o: number) => new Regex(p, o)),
    )(site),
  instance: {
    IsMatch: method(sig([S], B, (r: Regex, s: string | null) => r.IsMatch(s))),
    Match: method(
      sig([S], MT, (r: Regex, s: string | null) => r.Match(s)),
      sig([S, I], MT, (r: Regex, s: string | null, i: number) => r.Match(s, i)),
    ),
    Matches: method(sig([S], named('MatchCollection'), (r: Regex, s: string | null) => r.Matches(s))),
    Replace: method(
      sig([S, S], S, (r: Regex, s: string | null, p: string | null) => r.Replace(s, p)),
      sig([S, S, I], S, (r: Regex, s: string | null, p: string | null, n: number) => r.Replace(s, p, n)),
    ),
    Split: method(sig([S], T.strings, (r: Regex, s: string | null) => r.Split(s))),
    ToString: method(sig([], S, (r: Regex) => r.ToString())),
  },
  statics: {
    IsMatch: method(sig([S, S, opt(RO, 0)], B, (s: string | null, p: string, o: number) => Regex.IsMatch(s, p, o))),
    Match: method(sig([S, S, opt(RO, 0)], MT, (s: string | null, p: string, o: number) => Regex.Match(s, p, o))),
    Matches: method(sig([S, S, opt(RO, 0)], named('MatchCollection'), (s: string | null, p: string, o: number) => Regex.Matches(s, p, o))),
    Replace: {
      kind: 'method',
      bind: (site) => {
        // Replace(input, pattern, MatchEvaluator lambda[, options])
        const a = site.args;
        if (a.length >= 3 && a[2]!.value.kind === 'lambda') {
          const input = site.b.convert(site.b.compile(a[0]!.value), S);
          const pat = site.b.convert(site.b.compile(a[1]!.value), S);
          const l = site.b.lambda(a[2]!.value, [MT], S);
          const opts = a[3] ? site.b.convert(site.b.compile(a[3].value), RO) : () => 0;
          return {
            type: S,
            c: (ctx, f) => Regex.Replace(input(ctx, f) as string, pat(ctx, f) as string, l.make(ctx, f) as (m: Match) => string, opts(ctx, f) as number),
          };
        }
        return overloads(sig([S, S, S, opt(RO, 0)], S, (s: string | null, p: string, r: string | null, o: number) => Regex.Replace(s, p, r, o)))(site);
      },
    },
    Split: method(sig([S, S, opt(RO, 0)], T.strings, (s: string | null, p: string, o: number) => Regex.Split(s, p, o))),
    Escape: method(
      sig([S], S, (s: string) =>
        s.replace(/[\\*+?|{[()^$.# \t\n\r\f]/g, (c) => ({ '\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f', ' ': '\\ ' })[c] ?? `\\${c}`),
      ),
    ),
    Unescape: method(sig([S], S, (s: string) => s.replace(/\\(.)/g, '$1'))),
  },
});
void evaluator;
const capProps = (): Record<string, Member> => ({
  Index: prop(I, (c: Capture) => c.Index),
  Length: prop(I, (c: Capture) => c.Length),
  Value: prop(S, (c: Capture) => c.Value),
  ToString: method(sig([], S, (c: Capture) => c.Value)),
});
defineType({ name: 'Capture', isInstance: (v) => v instanceof Capture, instance: capProps() });
defineType({
  name: 'Group',
  bases: () => [named('Capture')],
  isInstance: (v) => v instanceof Group,
  instance: {
    Success: prop(B, (g: Group) => g.Success),
    Name: prop(S, (g: Group) => g.Name),
    Captures: prop(arrayOf(named('Capture')), (g: Group) => g.Captures),
  },
});
defineType({
  name: 'Match',
  bases: () => [GT, named('Capture')],
  isInstance: (v) => v instanceof Match,
  instance: {
    Groups: prop(named('GroupCollection'), (m: Match) => m.Groups, undefined, true),
    NextMatch: method(sig([], MT, (m: Match) => m.NextMatch())),
    Result: method(sig([S], S, (m: Match, r: string) => m.Result(r))),
  },
  statics: { Empty: prop(MT, () => Match.Empty) },
});
defineType({
  name: 'GroupCollection',
  bases: () => [enumerableOf(GT)],
  element: () => GT,
  iterate: (g: GroupCollection) => [...g],
  indexer: { type: () => GT, params: () => [O], get: (g: GroupCollection, k: unknown) => g.get(k as string) },
  instance: { Count: prop(I, (g: GroupCollection) => g.Count), ContainsKey: method(sig([S], B, (g: GroupCollection, k: string) => g.ContainsKey(k))) },
});
defineType({
  name: 'MatchCollection',
  bases: () => [enumerableOf(MT)],
  element: () => MT,
  iterate: (m: MatchCollection) => [...m],
  indexer: { type: () => MT, params: () => [I], get: (m: MatchCollection, i: number) => m.get(i) },
  instance: { Count: prop(I, (m: MatchCollection) => m.Count) },
});

// ---- hashing, HMAC, encryption ---------------------------------------------------------------------------------------------
const hashT = named('HashAlgorithm');
defineType({
  name: 'HashAlgorithm',
  isInstance: (v) => v instanceof crypto.HashAlgorithm || v instanceof crypto.HMAC,
  instance: {
    ComputeHash: method(
      sig([BYTES], BYTES, (h: crypto.HashAlgorithm, b: Uint8Array | null) => h.ComputeHash(b)),
      sig([BYTES, I, I], BYTES, (h: crypto.HashAlgorithm, b: Uint8Array | null, o: number, c: number) => h.ComputeHash(b, o, c)),
    ),
    Dispose: method(sig([], T.void, () => undefined)),
    HashSize: prop(I, (h: crypto.HashAlgorithm) => h.HashSize),
  },
});
for (const name of ['MD5', 'SHA1', 'SHA256', 'SHA384', 'SHA512'] as const) {
  const t = named(name);
  defineType({
    name,
    aliases: [`System.Security.Cryptography.${name}`, `${name}Managed`, `System.Security.Cryptography.${name}Managed`, `${name}CryptoServiceProvider`],
    bases: () => [hashT],
    isInstance: (v) => v instanceof crypto.HashAlgorithm && v.name === name,
    ctor: (site) => overloads(sig([], t, () => crypto.createHashAlgorithm(name)))(site),
    statics: {
      Create: method(sig([], t, () => crypto.createHashAlgorithm(name))),
      HashData: method(sig([BYTES], BYTES, (b: Uint8Array | null) => crypto.hashData(name, b))),
    },
  });
  if (name === 'MD5') continue;
  const hm = named(`HMAC${name}`);
  defineType({
    name: `HMAC${name}`,
    aliases: [`System.Security.Cryptography.HMAC${name}`],
    bases: () => [hashT],
    isInstance: (v) => v instanceof crypto.HMAC,
    ctor: (site) =>
      overloads(
        sig([], hm, () => crypto.createHmacAlgorithm(name)),
        sig([BYTES], hm, (k: Uint8Array | null) => crypto.createHmacAlgorithm(name, k)),
      )(site),
    instance: { Key: prop(BYTES, (h: crypto.HMAC) => h.Key) },
  });
}
defineType({
  name: 'HMACMD5',
  aliases: ['System.Security.Cryptography.HMACMD5'],
  bases: () => [hashT],
  ctor: (site) => overloads(sig([BYTES], named('HMACMD5'), (k: Uint8Array | null) => crypto.createHmacAlgorithm('MD5', k)))(site),
});
defineType({
  name: 'Array',
  instance: {
    // APIM helper extension methods on byte[] (docs/apim-behaviour.md: Helper methods and .NET types)
    Encrypt: method(
      sig([S, BYTES, BYTES], BYTES, (b: Uint8Array, alg: string, k: Uint8Array, iv: Uint8Array) => crypto.encrypt(b, alg, k, iv)),
      sig([SYM], BYTES, (b: Uint8Array, alg: crypto.SymmetricAlgorithm) => crypto.encryptWith(b, alg)),
      sig([SYM, BYTES, BYTES], BYTES, (b: Uint8Array, alg: crypto.SymmetricAlgorithm, k: Uint8Array, iv: Uint8Array) => crypto.encryptWith(b, alg, k, iv)),
    ),
    Decrypt: method(
      sig([S, BYTES, BYTES], BYTES, (b: Uint8Array, alg: string, k: Uint8Array, iv: Uint8Array) => crypto.decrypt(b, alg, k, iv)),
      sig([SYM], BYTES, (b: Uint8Array, alg: crypto.SymmetricAlgorithm) => crypto.decryptWith(b, alg)),
      sig([SYM, BYTES, BYTES], BYTES, (b: Uint8Array, alg: crypto.SymmetricAlgorithm, k: Uint8Array, iv: Uint8Array) => crypto.decryptWith(b, alg, k, iv)),
    ),
  },
});
// System.Security.Cryptography.SymmetricAlgorithm (allowed-types list): Create("Aes"), Key, IV, GenerateKey/IV
const SYM_T = 'SymmetricAlgorithm';
defineType({
  name: SYM_T,
  aliases: ['System.Security.Cryptography.SymmetricAlgorithm'],
  isInstance: (v) => v instanceof crypto.SymmetricAlgorithm,
  statics: { Create: method(sig([S], SYM, (n: string) => crypto.SymmetricAlgorithm.Create(n), { nonNull: true })) },
  instance: {
    Key: prop(
      BYTES,
      (a: crypto.SymmetricAlgorithm) => a.Key,
      (a: crypto.SymmetricAlgorithm, v: unknown) => (a.Key = v as Uint8Array),
      true,
    ),
    IV: prop(
      BYTES,
      (a: crypto.SymmetricAlgorithm) => a.IV,
      (a: crypto.SymmetricAlgorithm, v: unknown) => (a.IV = v as Uint8Array),
      true,
    ),
    KeySize: prop(I, (a: crypto.SymmetricAlgorithm) => a.KeySize),
    BlockSize: prop(I, (a: crypto.SymmetricAlgorithm) => a.BlockSize),
    GenerateKey: method(sig([], T.void, (a: crypto.SymmetricAlgorithm) => a.GenerateKey())),
    GenerateIV: method(sig([], T.void, (a: crypto.SymmetricAlgorithm) => a.GenerateIV())),
  },
});

// ---- APIM helpers: AsJwt / AsBasic ---------------------------------------------------------------------------------------
// One parser and one representation (src/dotnet/jwt.ts), shared with validate-jwt's output-token-variable-name.
const JwtT = named('Jwt');
defineType({
  name: 'Jwt',
  isInstance: (v) => v instanceof Jwt,
  instance: {
    Id: prop(S, (j: Jwt) => j.Id),
    Algorithm: prop(S, (j: Jwt) => j.Algorithm),
    Type: prop(S, (j: Jwt) => j.Type),
    Issuer: prop(S, (j: Jwt) => j.Issuer),
    Subject: prop(S, (j: Jwt) => j.Subject),
    Audiences: prop(T.strings, (j: Jwt) => j.Audiences),
    Claims: prop(named('JwtClaims'), (j: Jwt) => j.Claims, undefined, true),
    ExpirationTime: prop(nullableOf(DT), (j: Jwt) => j.ExpirationTime),
    NotBefore: prop(nullableOf(DT), (j: Jwt) => j.NotBefore),
    IssuedAt: prop(nullableOf(DT), (j: Jwt) => j.IssuedAt),
  },
});
// Claims is IReadOnlyDictionary<string, string[]> with CSV-joined GetValueOrDefault, like headers and query.
multiMapType('JwtClaims');
const BasicT = named('BasicAuthCredentials');
defineType({
  name: 'BasicAuthCredentials',
  isInstance: (v) => v instanceof BasicAuthCredentials,
  instance: { UserId: prop(S, (b: BasicAuthCredentials) => b.UserId), Password: prop(S, (b: BasicAuthCredentials) => b.Password) },
});
defineType({
  name: 'string',
  instance: {
    AsJwt: method(sig([], JwtT, (s: string) => asJwt(s))),
    TryParseJwt: method(
      sig([out(JwtT)], B, (s: string, set: (v: unknown) => void) => {
        const r = tryParseJwt(s);
        set(r.value);
        return r.ok;
      }),
    ),
    AsBasic: method(sig([], BasicT, (s: string) => asBasic(s))),
    TryParseBasic: method(
      sig([out(BasicT)], B, (s: string, set: (v: unknown) => void) => {
        const r = tryParseBasic(s);
        set(r.value);
        return r.ok;
      }),
    ),
  },
});
void (null as unknown as CsType);
