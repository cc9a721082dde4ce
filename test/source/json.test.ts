import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJsonWithPositions, resolvePointer, toPlain } from '../../src/source/json.js';
import { SourceText } from '../../src/diagnostics/source.js';

describe('JSON with positions', () => {
  it('parses like JSON.parse and records value and key offsets', () => {
    const text = '{\r\n  "a": [1, -2.5e3, "x\\u0041\\n"],\n  "b": {"c": null, "d": true}\n}';
    const node = parseJsonWithPositions(text);
    expect(toPlain(node)).toEqual(JSON.parse(text));
    const at = resolvePointer(node, '/b/d');
    expect(at.path).toBe('.b.d');
    expect(new SourceText('f', text).positionAt(at.node.offset)).toEqual({ line: 3, column: 25 });
    expect(new SourceText('f', text).positionAt(at.keyOffset!)).toEqual({ line: 3, column: 20 });
  });

  it('accepts // and /* */ comments and a BOM, as ARM templates do', () => {
    expect(toPlain(parseJsonWithPositions('\uFEFF// top\n{ /* c */ "a": 1 // end\n}'))).toEqual({ a: 1 });
  });

  const bad: Array<[string, string, number]> = [
    ['', 'the file is empty', 0],
    ['{"a": 1,}', 'trailing comma before }', 8],
    ['[1, 2', "expected ',' or ']' but found end of file", 5],
    ["{'a': 1}", 'expected a property name in double quotes', 1],
    ['{"a": \'x\'}', 'single quotes', 6],
    ['{"a": "x\ny"}', 'control character', 8],
    ['{"a": 1} x', "unexpected 'x' after the end of the JSON value", 9],
    ['{"a" 1}', 'expected \':\' after property name "a"', 5],
    ['{"a": tru}', 'expected a value', 6],
  ];
  for (const [text, message, offset] of bad) {
    it(`rejects ${JSON.stringify(text)} at offset ${offset}`, () => {
      let err: unknown;
      try {
        parseJsonWithPositions(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(JsonSyntaxError);
      expect((err as JsonSyntaxError).message).toContain(message);
      expect((err as JsonSyntaxError).offset).toBe(offset);
    });
  }
});
