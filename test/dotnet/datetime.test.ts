import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { DateTime, DateTimeOffset, TimeSpan } from '../../src/dotnet/datetime.js';
import { thrown } from '../helpers/dotnet.js';

// 2024-03-05 was a Tuesday.
const dt = DateTime.create(2024, 3, 5, 14, 7, 9, 123, 'Utc');

describe('DateTime.ToString(format), invariant culture', () => {
  it.each<[string | undefined, string]>([
    [undefined, '03/05/2024 14:07:09'],
    ['o', '2024-03-05T14:07:09.1230000Z'],
    ['O', '2024-03-05T14:07:09.1230000Z'],
    ['s', '2024-03-05T14:07:09'],
    ['u', '2024-03-05 14:07:09Z'],
    ['r', 'Tue, 05 Mar 2024 14:07:09 GMT'],
    ['R', 'Tue, 05 Mar 2024 14:07:09 GMT'],
    ['d', '03/05/2024'],
    ['D', 'Tuesday, 05 March 2024'],
    ['t', '14:07'],
    ['T', '14:07:09'],
    ['f', 'Tuesday, 05 March 2024 14:07'],
    ['F', 'Tuesday, 05 March 2024 14:07:09'],
    ['g', '03/05/2024 14:07'],
    ['G', '03/05/2024 14:07:09'],
    ['M', 'March 05'],
    ['m', 'March 05'],
    ['Y', '2024 March'],
    ['y', '2024 March'],
    ['U', 'Tuesday, 05 March 2024 14:07:09'],
    ['yyyyMMddTHHmmssZ', '20240305T140709Z'],
    ['yyyy-MM-ddTHH:mm:ssZ', '2024-03-05T14:07:09Z'],
    ['yyyy-MM-ddTHH:mm:ss.fffZ', '2024-03-05T14:07:09.123Z'],
    ['yyyyMMdd', '20240305'],
    ['h:mm tt', '2:07 PM'],
    ['hh:mm:ss t', '02:07:09 P'],
    ['d/M/yy', '5/3/24'],
    ['dddd', 'Tuesday'],
    ['ddd', 'Tue'],
    ['MMM', 'Mar'],
    ['MMMM dd, yyyy', 'March 05, 2024'],
    ['%d', '5'],
    ['%M', '3'],
    ['%K', 'Z'],
    ['fffffff', '1230000'],
    ['FFFFFFF', '123'],
    ['ff', '12'],
    ["yyyy'T'", '2024T'],
    ['\\d\\a\\y d', 'day 5'],
    ['zzz', '+00:00'],
    ['zz', '+00'],
    ['yyyyy', '02024'],
    ['HH:mm:ss.FFF', '14:07:09.123'],
    ['"quoted" HH', 'quoted 14'],
  ])('ToString(%j) → %j', (format, expected) => {
    expect(dt.toDotNetString(format)).toBe(expected);
  });

  it('F drops the preceding dot when the fraction is zero', () => {
    expect(DateTime.create(2024, 1, 1, 0, 0, 9).toDotNetString('ss.FFF')).toBe('09');
  });
  it('12-hour clock at midnight and noon', () => {
    expect(DateTime.create(2024, 1, 1, 0, 5).toDotNetString('hh:mm tt')).toBe('12:05 AM');
    expect(DateTime.create(2024, 1, 1, 12, 5).toDotNetString('h:mm tt')).toBe('12:05 PM');
  });
  it('two-digit and one-digit years', () => {
    const d = DateTime.create(2009, 6, 1);
    expect(d.toDotNetString('yy')).toBe('09');
    expect(d.toDotNetString('%y')).toBe('9');
  });
  it('K and o depend on Kind', () => {
    const u = DateTime.create(2024, 3, 5, 1, 2, 3);
    expect(u.toDotNetString('o')).toBe('2024-03-05T01:02:03.0000000');
    expect(DateTime.SpecifyKind(u, 'Local').toDotNetString('o')).toBe('2024-03-05T01:02:03.0000000+00:00');
    expect(DateTime.SpecifyKind(u, 'Utc').toDotNetString('yyyy K')).toBe('2024 Z');
  });
  it('an unknown single-letter format is FormatException', () => {
    expect(thrown(() => dt.toDotNetString('K')).typeName).toBe('FormatException');
    expect(thrown(() => dt.toDotNetString('Q')).typeName).toBe('FormatException');
  });
});

describe('DateTime properties and arithmetic', () => {
  it('components', () => {
    expect([dt.Year, dt.Month, dt.Day, dt.Hour, dt.Minute, dt.Second, dt.Millisecond]).toEqual([2024, 3, 5, 14, 7, 9, 123]);
    expect(dt.DayOfWeek).toBe(2);
    expect(dt.DayOfYear).toBe(65);
    expect(dt.Ticks).toBe(638452444291230000n);
    expect(dt.Date.toDotNetString('o')).toBe('2024-03-05T00:00:00.0000000Z');
    expect(dt.TimeOfDay.toString()).toBe('14:07:09.1230000');
    expect(DateTime.MinValue.Ticks).toBe(0n);
    expect(DateTime.MaxValue.toDotNetString('o')).toBe('9999-12-31T23:59:59.9999999');
    expect(DateTime.MinValue.toString()).toBe('01/01/0001 00:00:00');
    expect(DateTime.create(1, 1, 1).DayOfWeek).toBe(1); // Monday
  });

  it.each<[string, (d: DateTime) => DateTime, string]>([
    ['AddDays(1.5)', (d) => d.AddDays(1.5), '2024-03-07T02:07:09.1230000Z'],
    ['AddHours(-25)', (d) => d.AddHours(-25), '2024-03-04T13:07:09.1230000Z'],
    ['AddMinutes(0.5)', (d) => d.AddMinutes(0.5), '2024-03-05T14:07:39.1230000Z'],
    ['AddSeconds(60)', (d) => d.AddSeconds(60), '2024-03-05T14:08:09.1230000Z'],
    ['AddMilliseconds(0.5)', (d) => d.AddMilliseconds(0.5), '2024-03-05T14:07:09.1235000Z'],
    ['AddTicks(1)', (d) => d.AddTicks(1), '2024-03-05T14:07:09.1230001Z'],
    ['AddMonths(-14)', (d) => d.AddMonths(-14), '2023-01-05T14:07:09.1230000Z'],
    ['AddYears(1)', (d) => d.AddYears(1), '2025-03-05T14:07:09.1230000Z'],
    ['Add(TimeSpan.FromHours(10))', (d) => d.Add(TimeSpan.FromHours(10)), '2024-03-06T00:07:09.1230000Z'],
    ['Subtract(TimeSpan.FromDays(65))', (d) => d.Subtract(TimeSpan.FromDays(65)), '2023-12-31T14:07:09.1230000Z'],
  ])('%s', (_name, op, expected) => {
    expect(op(dt).toDotNetString('o')).toBe(expected);
  });

  it('AddMonths clamps to the last day of the month', () => {
    expect(DateTime.create(2024, 1, 31).AddMonths(1).toString()).toBe('02/29/2024 00:00:00');
    expect(DateTime.create(2024, 2, 29).AddYears(1).toString()).toBe('02/28/2025 00:00:00');
  });

  it('Subtract(DateTime) gives a TimeSpan', () => {
    const span = dt.Subtract(DateTime.create(2024, 1, 1));
    expect(span.toString()).toBe('64.14:07:09.1230000');
    expect(span.Days).toBe(64);
    expect(span.TotalHours).toBeCloseTo(64 * 24 + 14.119200833, 6);
  });

  it('out-of-range results and constructor arguments throw ArgumentOutOfRangeException', () => {
    const e = thrown(() => DateTime.MinValue.AddSeconds(-1));
    expect(e.typeName).toBe('ArgumentOutOfRangeException');
    expect(e.message).toBe("The added or subtracted value results in an un-representable DateTime. (Parameter 'value')");
    expect(thrown(() => DateTime.create(2023, 2, 29)).message).toBe('Year, Month, and Day parameters describe an un-representable DateTime.');
    expect(thrown(() => DateTime.create(2023, 2, 1, 24)).message).toBe('Hour, Minute, and Second parameters describe an un-representable DateTime.');
    expect(thrown(() => DateTime.MaxValue.AddTicks(1)).typeName).toBe('ArgumentOutOfRangeException');
  });

  it('DaysInMonth and IsLeapYear', () => {
    expect([DateTime.DaysInMonth(2024, 2), DateTime.DaysInMonth(2023, 2), DateTime.DaysInMonth(2000, 2), DateTime.DaysInMonth(1900, 2)]).toEqual([
      29, 28, 29, 28,
    ]);
    expect(DateTime.DaysInMonth(2024, 4)).toBe(30);
    expect(DateTime.IsLeapYear(2400)).toBe(true);
    expect(thrown(() => DateTime.DaysInMonth(2024, 13)).message).toBe("Month must be between one and twelve. (Parameter 'month')");
  });

  it('comparisons ignore Kind', () => {
    const a = DateTime.create(2024, 1, 1, 0, 0, 0, 0, 'Utc');
    const b = DateTime.create(2024, 1, 1, 0, 0, 0, 0, 'Local');
    expect(a.Equals(b)).toBe(true);
    expect(a.CompareTo(a.AddTicks(1))).toBe(-1);
    expect(DateTime.Compare(a.AddDays(1), a)).toBe(1);
  });
});

describe('UtcNow / Now / Today from the injected clock', () => {
  it('reads the time it is given', () => {
    const clock = new VirtualClock(Date.UTC(2024, 2, 5, 14, 7, 9, 123));
    const now = DateTime.UtcNow(clock.now());
    expect(now.toDotNetString('o')).toBe('2024-03-05T14:07:09.1230000Z');
    expect(now.Kind).toBe('Utc');
    clock.advance(60_000);
    expect(DateTime.UtcNow(clock.now()).Minute).toBe(8);
    expect(DateTime.Now(clock.now()).Kind).toBe('Local');
    expect(DateTime.Today(clock.now()).toString()).toBe('03/05/2024 00:00:00');
    expect(DateTime.UtcNow(0).Ticks).toBe(621355968000000000n);
  });
});

describe('DateTime.Parse / ParseExact', () => {
  it.each<[string, string, string]>([
    ['2024-03-05T14:07:09Z', '2024-03-05T14:07:09.0000000+00:00', 'Local'],
    ['2024-03-05T14:07:09', '2024-03-05T14:07:09.0000000', 'Unspecified'],
    ['2024-03-05', '2024-03-05T00:00:00.0000000', 'Unspecified'],
    ['2024-03-05 14:07', '2024-03-05T14:07:00.0000000', 'Unspecified'],
    ['03/05/2024 14:07:09', '2024-03-05T14:07:09.0000000', 'Unspecified'],
    ['3/5/2024 2:07 PM', '2024-03-05T14:07:00.0000000', 'Unspecified'],
    ['3/5/2024 12:30 AM', '2024-03-05T00:30:00.0000000', 'Unspecified'],
    ['Tue, 05 Mar 2024 14:07:09 GMT', '2024-03-05T14:07:09.0000000+00:00', 'Local'],
    ['2024-03-05T14:07:09+02:00', '2024-03-05T12:07:09.0000000+00:00', 'Local'],
    ['2024-03-05T14:07:09.1234567Z', '2024-03-05T14:07:09.1234567+00:00', 'Local'],
    ['March 5, 2024', '2024-03-05T00:00:00.0000000', 'Unspecified'],
    ['  2024-03-05  ', '2024-03-05T00:00:00.0000000', 'Unspecified'],
  ])('Parse(%j)', (text, expected, kind) => {
    const d = DateTime.Parse(text);
    expect(d.toDotNetString('o')).toBe(expected);
    expect(d.Kind).toBe(kind);
  });

  it.each(['not a date', '2023-02-29', '2024-13-01', '', '14:07 2024'])('Parse(%j) is FormatException', (text) => {
    const e = thrown(() => DateTime.Parse(text));
    expect(e.typeName).toBe('FormatException');
    expect(e.message).toBe(`String '${text}' was not recognized as a valid DateTime.`);
    expect(DateTime.TryParse(text).ok).toBe(false);
  });

  it.each<[string, string | string[], string]>([
    ['20240305', 'yyyyMMdd', '2024-03-05T00:00:00.0000000'],
    ['2024-03-05 14:07', 'yyyy-MM-dd HH:mm', '2024-03-05T14:07:00.0000000'],
    ['05/03/2024', 'dd/MM/yyyy', '2024-03-05T00:00:00.0000000'],
    ['20240305T140709Z', 'yyyyMMddTHHmmssZ', '2024-03-05T14:07:09.0000000+00:00'],
    ['5 Mar 24', 'd MMM yy', '2024-03-05T00:00:00.0000000'],
    ['02:07 PM', 'hh:mm tt', '0001-01-01T14:07:00.0000000'],
    ['2024-03-05T14:07:09.123', 'yyyy-MM-ddTHH:mm:ss.fff', '2024-03-05T14:07:09.1230000'],
    ['2024/03/05', ['yyyy-MM-dd', 'yyyy/MM/dd'], '2024-03-05T00:00:00.0000000'],
  ])('ParseExact(%j, %j)', (text, format, expected) => {
    expect(DateTime.ParseExact(text, format).toDotNetString('o')).toBe(expected);
  });

  it('ParseExact mismatch is FormatException', () => {
    expect(thrown(() => DateTime.ParseExact('2024-03-05', 'yyyyMMdd')).message).toBe("String '2024-03-05' was not recognized as a valid DateTime.");
    expect(DateTime.TryParseExact('x', 'yyyy').ok).toBe(false);
  });
});

describe('TimeSpan', () => {
  it.each<[string, TimeSpan, string]>([
    ['FromSeconds(90.5)', TimeSpan.FromSeconds(90.5), '00:01:30.5000000'],
    ['FromDays(1.5)', TimeSpan.FromDays(1.5), '1.12:00:00'],
    ['FromMilliseconds(-1)', TimeSpan.FromMilliseconds(-1), '-00:00:00.0010000'],
    ['FromHours(25)', TimeSpan.FromHours(25), '1.01:00:00'],
    ['FromMinutes(1.0 / 3)', TimeSpan.FromMinutes(1 / 3), '00:00:20'],
    ['Zero', TimeSpan.Zero, '00:00:00'],
    ['create(1,2,3,4,5)', TimeSpan.create(1, 2, 3, 4, 5), '1.02:03:04.0050000'],
    ['FromTicks(1)', TimeSpan.FromTicks(1), '00:00:00.0000001'],
    ['Negate', TimeSpan.FromHours(1).Negate(), '-01:00:00'],
    ['Duration', TimeSpan.FromHours(-1).Duration(), '01:00:00'],
    ['Add', TimeSpan.FromHours(1).Add(TimeSpan.FromMinutes(30)), '01:30:00'],
    ['Subtract', TimeSpan.FromHours(1).Subtract(TimeSpan.FromMinutes(90)), '-00:30:00'],
  ])('%s → %s', (_n, ts, expected) => {
    expect(ts.toString()).toBe(expected);
  });

  it('components and totals', () => {
    const t = TimeSpan.create(1, 2, 3, 4, 5);
    expect([t.Days, t.Hours, t.Minutes, t.Seconds, t.Milliseconds]).toEqual([1, 2, 3, 4, 5]);
    expect(t.TotalSeconds).toBe(93784.005);
    expect(t.TotalMilliseconds).toBe(93784005);
    expect(TimeSpan.FromMinutes(90).TotalHours).toBe(1.5);
    expect(TimeSpan.FromHours(-1.5).Minutes).toBe(-30);
  });

  it.each<[string, string]>([
    ['c', '1.02:03:04.0050000'],
    ['g', '1:2:03:04.005'],
    ['G', '1:02:03:04.0050000'],
    ['hh\\:mm', '02:03'],
    ["d'd 'h'h'", '1d 2h'],
    ['%d', '1'],
    ['ss\\.fff', '04.005'],
  ])('ToString(%j)', (format, expected) => {
    expect(TimeSpan.create(1, 2, 3, 4, 5).toDotNetString(format)).toBe(expected);
  });

  it('unquoted literals in a custom TimeSpan format are FormatException', () => {
    expect(thrown(() => TimeSpan.FromHours(1).toDotNetString('hh:mm')).typeName).toBe('FormatException');
  });

  it.each<[string, string]>([
    ['1.02:03:04.5', '1.02:03:04.5000000'],
    ['02:03', '02:03:00'],
    ['1:02:03', '01:02:03'],
    ['5', '5.00:00:00'],
    ['-00:00:01', '-00:00:01'],
    ['1:02:03:04', '1.02:03:04'],
    [' 10:00:00 ', '10:00:00'],
  ])('Parse(%j)', (text, expected) => {
    expect(TimeSpan.Parse(text).toString()).toBe(expected);
  });

  it('Parse errors', () => {
    expect(thrown(() => TimeSpan.Parse('24:00:00')).typeName).toBe('OverflowException');
    expect(thrown(() => TimeSpan.Parse('abc')).message).toBe("String 'abc' was not recognized as a valid TimeSpan.");
    expect(TimeSpan.TryParse('x').ok).toBe(false);
    expect(thrown(() => TimeSpan.FromSeconds(NaN)).message).toBe('TimeSpan does not accept floating point Not-a-Number values.');
    expect(thrown(() => TimeSpan.FromDays(1e20)).message).toBe('TimeSpan overflowed because the duration is too long.');
  });
});

describe('DateTimeOffset', () => {
  it('Unix time conversions', () => {
    const now = DateTimeOffset.UtcNow(1700000000123);
    expect(now.ToUnixTimeSeconds()).toBe(1700000000n);
    expect(now.ToUnixTimeMilliseconds()).toBe(1700000000123n);
    expect(DateTimeOffset.FromUnixTimeSeconds(1700000000).toString()).toBe('11/14/2023 22:13:20 +00:00');
    expect(DateTimeOffset.FromUnixTimeSeconds(-1).UtcDateTime.toDotNetString('o')).toBe('1969-12-31T23:59:59.0000000Z');
    expect(DateTimeOffset.FromUnixTimeMilliseconds(1500).ToUnixTimeSeconds()).toBe(1n);
    expect(thrown(() => DateTimeOffset.FromUnixTimeSeconds(253402300800)).typeName).toBe('ArgumentOutOfRangeException');
  });
  it('keeps the parsed offset', () => {
    const o = DateTimeOffset.Parse('2024-03-05T14:07:09+02:00');
    expect(o.Offset.toString()).toBe('02:00:00');
    expect(o.UtcDateTime.toDotNetString('s')).toBe('2024-03-05T12:07:09');
    expect(o.toString()).toBe('03/05/2024 14:07:09 +02:00');
    expect(o.toDotNetString('o')).toBe('2024-03-05T14:07:09.0000000+02:00');
    expect(o.toDotNetString('u')).toBe('2024-03-05 12:07:09Z');
    expect(o.Hour).toBe(14);
    expect(o.AddHours(1).toDotNetString('HH zzz')).toBe('15 +02:00');
  });
});
