import { describe, expect, it } from 'vitest';
import { SourceText } from '../../src/diagnostics/source.js';
import { XML_LIMITS, readPolicyXml } from '../../src/xml/read.js';
import { tryBuildGateway } from '../helpers/gateway.js';

/** Hostile policy documents: each ends as one positioned diagnostic in bounded time, never a thrown JS error. */

const SECTIONS_END = '</inbound><backend><forward-request /></backend><outbound /><on-error /></policies>';

function read(text: string, file = 'p.xml') {
  return readPolicyXml(new SourceText(file, text));
}

function nestedChoose(levels: number): string {
  return (
    '<policies><inbound>\n' +
    '<choose><when condition="@(true)">'.repeat(levels) +
    '<set-header name="a" exists-action="override"><value>x</value></set-header>' +
    '</when></choose>'.repeat(levels) +
    SECTIONS_END
  );
}

describe('policy XML limits', () => {
  it('element nesting past the limit is xml/too-deep at the element that crosses it', () => {
    const r = read(nestedChoose(1200));
    expect(r.root).toBeNull();
    expect(r.diagnostics).toHaveLength(1);
    const d = r.diagnostics[0]!;
    expect(d.code).toBe('xml/too-deep');
    expect(d.line).toBe(2);
    // <policies>, <inbound>, then 63 <choose><when> pairs make 128 levels: the next <choose> is one too many.
    const offset = '<choose><when condition="@(true)">'.length * 63;
    expect(d.column).toBe(offset + 1);
    expect(d.message).toMatch(/nested 129 elements deep; the emulator reads at most 128/);
  });

  it('nesting within the limit still reads and compiles', () => {
    const r = tryBuildGateway({ api: nestedChoose(60) });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.gateway).not.toBeNull();
  });

  it('through the gateway build, 1,000 nested choose elements are a diagnostic, not a stack overflow', () => {
    const r = tryBuildGateway({ api: nestedChoose(1000) });
    expect(r.gateway).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['xml/too-deep']);
    expect(r.diagnostics[0]!.file).toBe('api.xml');
  });

  it('documents over the fragment size are refused before reading, at the offset of the limit', () => {
    const big = `<policies><inbound><set-header name="a" exists-action="override"><value>${'a'.repeat(10 * 1024 * 1024)}</value></set-header>${SECTIONS_END}`;
    const r = read(big);
    expect(r.root).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['xml/document-too-large']);
    expect(r.diagnostics[0]!.column).toBe(XML_LIMITS.fragmentChars + 1);
    expect(r.diagnostics[0]!.message).toMatch(/up to 256 KiB and fragments up to 512 KiB/);
  });

  it('a policy document over 256 KiB is an error; a fragment of the same size is not', () => {
    const body = 'a'.repeat(300 * 1024);
    const policy = read(`<policies><inbound><set-header name="a" exists-action="override"><value>${body}</value></set-header>${SECTIONS_END}`);
    expect(policy.root).not.toBeNull();
    expect(policy.diagnostics.map((d) => d.code)).toEqual(['xml/document-too-large']);
    const fragment = read(`<fragment><set-header name="a" exists-action="override"><value>${body}</value></set-header></fragment>`);
    expect(fragment.diagnostics).toEqual([]);
  });

  it('interpolated strings nested inside each other are bounded', () => {
    let e = '"x"';
    for (let i = 0; i < 200; i++) e = `$"{${e}}"`;
    const r = read(`<policies><inbound><set-variable name="v" value="@(${e.replace(/"/g, '&quot;')})" />${SECTIONS_END}`);
    expect(r.root).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['xml/too-deep']);
    expect(r.diagnostics[0]!.message).toMatch(/more than 32 levels/);
    // A few levels are ordinary C#.
    const ok = read(`<policies><inbound><set-variable name="v" value='@($"a{$"b{1}"}")' />${SECTIONS_END}`);
    expect(ok.diagnostics).toEqual([]);
  });
});
