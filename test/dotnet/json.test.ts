import { describe, expect, it } from 'vitest';
import { DateTime } from '../../src/dotnet/datetime.js';
import { JArray, JObject, JProperty, JToken, JValue, type JTokenType, deserializeObject, explicitCast, serializeObject } from '../../src/dotnet/json.js';
import { thrown } from '../helpers/dotnet.js';

describe('Newtonsoft indented output (JToken.ToString())', () => {
  it('writes nested objects and arrays with 2-space indentation, byte-exact', () => {
    const o = JObject.Parse('{"name":"x","nested":{"arr":[1,2.5,{"deep":true},[],{}],"empty":{}},"u":"é☃","n":null}');
    expect(o.ToString()).toBe(
      [
        '{',
        '  "name": "x",',
        '  "nested": {',
        '    "arr": [',
        '      1,',
        '      2.5,',
        '      {',
        '        "deep": true',
        '      },',
        '      [],',
        '      {}',
        '    ],',
        '    "empty": {}',
        '  },',
        '  "u": "é☃",',
        '  "n": null',
        '}',
      ].join('\n'),
    );
  });

  it('empty containers and a root array', () => {
    expect(new JObject().ToString()).toBe('{}');
    expect(new JArray().ToString()).toBe('[]');
    expect(JArray.Parse('[1,"a"]').ToString()).toBe('[\n  1,\n  "a"\n]');
  });

  it('a JProperty prints as `"name": value`', () => {
    expect(JProperty.create('a', 1).ToString()).toBe('"a": 1');
    expect(JProperty.create('a', ['x']).ToString()).toBe('"a": [\n  "x"\n]');
  });
});

describe('parse → ToString(Formatting.None) round trips', () => {
  it.each<[string, string]>([
    ['{"a":1}', '{"a":1}'],
    ['{"a":1.0}', '{"a":1.0}'],
    ['{"a":1e20}', '{"a":1E+20}'],
    ['{"a":1.5e-7}', '{"a":1.5E-07}'],
    ['{"a":-0.0}', '{"a":-0.0}'],
    ['{"a":0.1}', '{"a":0.1}'],
    ['{"a":100.50}', '{"a":100.5}'],
    ['{"a":12345678901234567890}', '{"a":12345678901234567890}'],
    ['{"a":-5}', '{"a":-5}'],
    ['[]', '[]'],
    ['{}', '{}'],
    ['[[],{}]', '[[],{}]'],
    ['{"s":"\\u00e9\\t\\"x\\"\\\\"}', '{"s":"é\\t\\"x\\"\\\\"}'],
    ['{"s":"\\u0001\\u001f"}', '{"s":"\\u0001\\u001f"}'],
    ['{"s":"</script>"}', '{"s":"</script>"}'],
    ['{"s":"a\\/b"}', '{"s":"a/b"}'],
    ['{"s":"\\u2028"}', '{"s":"\\u2028"}'],
    ['{"s":"\\b\\f\\n\\r"}', '{"s":"\\b\\f\\n\\r"}'],
    ['{"s":"😀"}', '{"s":"😀"}'],
    ['{"d":"2020-01-02T03:04:05.100Z"}', '{"d":"2020-01-02T03:04:05.1Z"}'],
    ['{"d":"2020-01-02T03:04:05"}', '{"d":"2020-01-02T03:04:05"}'],
    ['{"d":"2020-01-02T03:04:05.1234567Z"}', '{"d":"2020-01-02T03:04:05.1234567Z"}'],
    ['{"d":"2020-01-02"}', '{"d":"2020-01-02"}'],
    ['{"d":"2020-01-02 03:04:05"}', '{"d":"2020-01-02 03:04:05"}'],
    ['{"x":null,"t":true,"f":false}', '{"x":null,"t":true,"f":false}'],
    ['{a:1}', '{"a":1}'],
    ["{'a':'b'}", '{"a":"b"}'],
    ['[1,2,]', '[1,2]'],
    ['{"a":1,}', '{"a":1}'],
    ['{"a":1,"a":2}', '{"a":2}'],
    ['// c\n{"a":/*x*/1}', '{"a":1}'],
    [' \n {"a" : [ 1 , 2 ] } \n', '{"a":[1,2]}'],
    ['"text"', '"text"'],
    ['123', '123'],
    ['1.50', '1.5'],
    ['true', 'true'],
    ['null', 'null'],
    ['NaN', '"NaN"'],
    ['-Infinity', '"-Infinity"'],
    ['0x1F', '31'],
    ['{"b":2,"a":1,"c":3}', '{"b":2,"a":1,"c":3}'],
  ])('%s → %s', (input, expected) => {
    expect(JToken.Parse(input).ToString('None')).toBe(expected);
  });
});

describe('token types after parse', () => {
  const o = JObject.Parse('{"i":1,"f":1.0,"s":"x","b":true,"n":null,"d":"2020-01-02T03:04:05Z","a":[],"o":{},"big":99999999999999999999}');
  it.each<[string, JTokenType]>([
    ['i', 'Integer'],
    ['f', 'Float'],
    ['s', 'String'],
    ['b', 'Boolean'],
    ['n', 'Null'],
    ['d', 'Date'],
    ['a', 'Array'],
    ['o', 'Object'],
    ['big', 'Integer'],
  ])('%s is %s', (k, t) => {
    expect(o.get(k)!.Type).toBe(t);
  });
  it('a Date token holds a UTC DateTime', () => {
    const d = (o.get('d') as JValue).Value as DateTime;
    expect(d.Kind).toBe('Utc');
    expect(d.toDotNetString('o')).toBe('2020-01-02T03:04:05.0000000Z');
  });
  it('the root object is Object and properties are Property', () => {
    expect(o.Type).toBe('Object');
    expect(o.Properties()[0]!.Type).toBe('Property');
  });
});

describe('JValue.ToString() gives the raw value', () => {
  it.each<[string, string]>([
    ['"x"', 'x'],
    ['1.0', '1'],
    ['1.5', '1.5'],
    ['true', 'True'],
    ['false', 'False'],
    ['null', ''],
    ['"2020-01-02T03:04:05Z"', '01/02/2020 03:04:05'],
    ['1e20', '1E+20'],
    ['12345678901234567890', '12345678901234567890'],
    ['-7', '-7'],
  ])('%s → %j', (json, expected) => {
    expect(JToken.Parse(json).ToString()).toBe(expected);
  });
  it('ToString(Formatting) gives JSON text', () => {
    expect(JToken.Parse('"x"').ToString('None')).toBe('"x"');
    expect(JToken.Parse('1.0').ToString('Indented')).toBe('1.0');
  });
  it('formats with a format string like the underlying value', () => {
    expect((JToken.Parse('1234.5') as JValue).toDotNetString('N2')).toBe('1,234.50');
  });
});

describe('parse errors are JsonReaderException with Newtonsoft messages', () => {
  it.each<[string, string]>([
    ['x', "Unexpected character encountered while parsing value: x. Path '', line 1, position 1."],
    ['{"a":1', "Unexpected end of content while loading JObject. Path 'a', line 1, position 6."],
    ['{"a" 1}', "Invalid character after parsing property name. Expected ':' but got: 1. Path 'a', line 1, position 6."],
    ['[1,2', "Unexpected end of content while loading JArray. Path '[1]', line 1, position 4."],
    ['{"a":1} x', "Additional text encountered after finished reading JSON content: x. Path '', line 1, position 9."],
    ['', "Error reading JToken from JsonReader. Path '', line 0, position 0."],
    ['[1 2]', "After parsing a value an unexpected character was encountered: 2. Path '[0]', line 1, position 4."],
    ['{"a":1.2.3}', "Input string '1.2.3' is not a valid number. Path 'a', line 1, position 10."],
    ['"abc', "Unterminated string. Expected delimiter: \". Path '', line 1, position 4."],
    ['{"a":\n  @}', "Unexpected character encountered while parsing value: @. Path 'a', line 2, position 3."],
    ['{"a":"\\q"}', "Bad JSON escape sequence: \\q. Path 'a', line 1, position 8."],
    ['{,}', "Invalid property identifier character: ,. Path '', line 1, position 2."],
  ])('%j', (input, message) => {
    const e = thrown(() => JToken.Parse(input));
    expect(e.typeName).toBe('JsonReaderException');
    expect(e.message).toBe(message);
  });

  it('JObject.Parse and JArray.Parse check the root kind', () => {
    expect(thrown(() => JObject.Parse('[1]')).message).toBe(
      "Error reading JObject from JsonReader. Current JsonReader item is not an object: StartArray. Path '', line 1, position 1.",
    );
    expect(thrown(() => JArray.Parse('{}')).message).toBe(
      "Error reading JArray from JsonReader. Current JsonReader item is not an array: StartObject. Path '', line 1, position 1.",
    );
    expect(thrown(() => JObject.Parse('1')).message).toBe(
      "Error reading JObject from JsonReader. Current JsonReader item is not an object: Integer. Path '', line 1, position 1.",
    );
    expect(thrown(() => JObject.Parse('')).message).toBe("Error reading JObject from JsonReader. Path '', line 0, position 0.");
    expect(thrown(() => JObject.Parse(null)).typeName).toBe('ArgumentNullException');
  });
});

describe('indexers', () => {
  const o = JObject.Parse('{"a":{"b":[10,20,{"c":"deep"}]},"x y":1}');
  it('missing keys give null, present keys the value token', () => {
    expect(o.get('missing')).toBeNull();
    expect(o.get('a')!.get('b')!.get(1)!.ToString()).toBe('20');
    expect(o.get('a')!.get('b')!.get(2)!.get('c')!.ToString()).toBe('deep');
  });
  it('array index out of range is ArgumentOutOfRangeException', () => {
    const e = thrown(() => o.get('a')!.get('b')!.get(3));
    expect(e.typeName).toBe('ArgumentOutOfRangeException');
    expect(e.message).toBe("Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')");
  });
  it('indexing a value is InvalidOperationException', () => {
    const e = thrown(() => o.get('x y')!.get('z'));
    expect(e.typeName).toBe('InvalidOperationException');
    expect(e.message).toBe('Cannot access child value on Newtonsoft.Json.Linq.JValue.');
  });
  it('wrong key kinds are ArgumentException', () => {
    expect(thrown(() => o.get(0)).message).toBe('Accessed JObject values with invalid key value: 0. Object property name expected.');
    expect(thrown(() => o.get('a')!.get('b')!.get('k')).message).toBe('Accessed JArray values with invalid key value: "k". Int32 array index expected.');
  });
  it('Path names every step', () => {
    expect(o.get('a')!.get('b')!.get(2)!.get('c')!.Path).toBe('a.b[2].c');
    expect(o.get('x y')!.Path).toBe("['x y']");
    expect(o.Path).toBe('');
  });
});

describe('explicit conversions (T)token', () => {
  const o = JObject.Parse(
    '{"i":12,"f":1.5,"h":2.5,"s":"12","abc":"abc","t":"true","yes":"yes","b":true,"n":null,"o":{},"big":3000000000,"long":9007199254740993,"d":"2020-01-02T03:04:05Z","ds":"2021-05-06"}',
  );
  it.each<[string, Parameters<typeof explicitCast>[1], unknown]>([
    ['i', 'string', '12'],
    ['f', 'string', '1.5'],
    ['b', 'string', 'True'],
    ['d', 'string', '01/02/2020 03:04:05'],
    ['n', 'string', null],
    ['missing', 'string', null],
    ['s', 'int', 12],
    ['i', 'int', 12],
    ['f', 'int', 2],
    ['h', 'int', 2],
    ['b', 'int', 1],
    ['i', 'double', 12],
    ['s', 'double', 12],
    ['f', 'double', 1.5],
    ['long', 'long', 9007199254740993n],
    ['t', 'bool', true],
    ['i', 'bool', true],
    ['n', 'int?', null],
    ['missing', 'int?', null],
    ['missing', 'bool?', null],
  ])('(%s) as %s → %s', (key, target, expected) => {
    expect(explicitCast(o.get(key), target)).toEqual(expected);
  });

  it('(DateTime) of a Date token and of a date string', () => {
    expect(explicitCast(o.get('d'), 'DateTime').toDotNetString('s')).toBe('2020-01-02T03:04:05');
    expect(explicitCast(o.get('ds'), 'DateTime').toDotNetString('s')).toBe('2021-05-06T00:00:00');
  });

  it.each<[string, Parameters<typeof explicitCast>[1], string, string]>([
    ['o', 'int', 'ArgumentException', 'Can not convert Object to Int32.'],
    ['o', 'string', 'ArgumentException', 'Can not convert Object to String.'],
    ['n', 'int', 'ArgumentException', 'Can not convert Null to Int32.'],
    ['missing', 'int', 'ArgumentNullException', "Value cannot be null. (Parameter 'value')"],
    ['abc', 'int', 'FormatException', 'Input string was not in a correct format.'],
    ['yes', 'bool', 'FormatException', "String 'yes' was not recognized as a valid Boolean."],
    ['big', 'int', 'OverflowException', 'Value was either too large or too small for an Int32.'],
    ['abc', 'double', 'FormatException', 'Input string was not in a correct format.'],
  ])('(%s) as %s throws %s', (key, target, type, message) => {
    const e = thrown(() => explicitCast(o.get(key), target));
    expect(e.typeName).toBe(type);
    expect(e.message).toBe(message);
  });

  it('casting a JProperty converts its value', () => {
    expect(explicitCast(o.Property('i'), 'int')).toBe(12);
  });
});

describe('Value<T>(key)', () => {
  const o = JObject.Parse('{"i":12,"f":1.0,"s":"7","b":"True","n":null,"o":{"x":1}}');
  it.each<[string, Parameters<typeof explicitCast>[1], unknown]>([
    ['i', 'int', 12],
    ['i', 'string', '12'],
    ['f', 'string', '1'],
    ['s', 'int', 7],
    ['b', 'bool', true],
    ['missing', 'int', 0],
    ['missing', 'string', null],
    ['missing', 'bool', false],
    ['n', 'string', null],
    ['n', 'int?', null],
    ['i', 'long', 12n],
  ])('Value<%s> of %s → %s', (key, target, expected) => {
    expect(o.ValueOf(key, target)).toEqual(expected);
  });
  it('a container is InvalidCastException', () => {
    const e = thrown(() => o.ValueOf('o', 'string'));
    expect(e.typeName).toBe('InvalidCastException');
    expect(e.message).toBe('Cannot cast Newtonsoft.Json.Linq.JObject to Newtonsoft.Json.Linq.JToken.');
  });
  it('null into a value type is InvalidCastException', () => {
    expect(thrown(() => o.ValueOf('n', 'int')).message).toBe('Null object cannot be converted to a value type.');
  });
  it('ToObject<T> converts the token itself', () => {
    expect(o.get('i')!.ToObject('double')).toBe(12);
  });
});

describe('building and changing documents', () => {
  it('JObject.Add rejects duplicate names with the Newtonsoft message', () => {
    const o = new JObject();
    o.Add('a', 1);
    const e = thrown(() => o.Add('a', 2));
    expect(e.typeName).toBe('ArgumentException');
    expect(e.message).toBe('Can not add property a to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.');
  });

  it('set replaces in place and keeps order; new keys go last', () => {
    const o = JObject.Parse('{"a":1,"b":2}');
    o.set('a', 'x');
    o.set('c', true);
    expect(o.ToString('None')).toBe('{"a":"x","b":2,"c":true}');
  });

  it('Remove, ContainsKey, TryGetValue, Count', () => {
    const o = JObject.Parse('{"a":1,"b":2}');
    expect(o.Remove('a')).toBe(true);
    expect(o.Remove('a')).toBe(false);
    expect(o.ContainsKey('b')).toBe(true);
    expect(o.TryGetValue('b').value!.ToString()).toBe('2');
    expect(o.TryGetValue('zz').ok).toBe(false);
    expect(o.Count).toBe(1);
  });

  it('JArray Add / Insert / RemoveAt / IndexOf / set', () => {
    const a = new JArray();
    a.Add(1);
    a.Add('two');
    a.Insert(0, null);
    a.set(2, 3.5);
    expect(a.ToString('None')).toBe('[null,1,3.5]');
    a.RemoveAt(0);
    expect(a.Count).toBe(2);
    expect(a.IndexOf(a.get(1)!)).toBe(1);
    expect(thrown(() => a.RemoveAt(5)).typeName).toBe('ArgumentOutOfRangeException');
  });

  it('adding a token that already has a parent adds a copy', () => {
    const src = JObject.Parse('{"inner":{"v":1}}');
    const dst = new JObject();
    dst.Add('copy', src.get('inner'));
    (dst.get('copy') as JObject).set('v', 2);
    expect(src.ToString('None')).toBe('{"inner":{"v":1}}');
    expect(dst.ToString('None')).toBe('{"copy":{"v":2}}');
  });

  it('Parent of a property value is the JProperty; Root is the document', () => {
    const o = JObject.Parse('{"a":{"b":1}}');
    const b = o.get('a')!.get('b')!;
    expect(b.Parent).toBeInstanceOf(JProperty);
    expect((b.Parent as JProperty).Name).toBe('b');
    expect(b.Root).toBe(o);
  });

  it('JToken.Remove() and Replace()', () => {
    const o = JObject.Parse('{"a":1,"b":2,"c":[1,2,3]}');
    o.Property('a')!.Remove();
    o.get('c')!.get(1)!.Replace('x');
    o.get('c')!.get(0)!.Remove();
    expect(o.ToString('None')).toBe('{"b":2,"c":["x",3]}');
    expect(thrown(() => new JObject().Remove()).message).toBe('The parent is missing.');
  });

  it('new JObject(new JProperty(...), ...) and JProperty with an array value (corpus idiom)', () => {
    const o = JObject.create(JProperty.create('category', 'Hate'), JProperty.create('severity', 2), JProperty.create('tags', ['a', 'b']));
    expect(o.ToString('None')).toBe('{"category":"Hate","severity":2,"tags":["a","b"]}');
    expect(JArray.create(['x', 'y']).ToString('None')).toBe('["x","y"]');
    expect(thrown(() => JObject.create(JValue.fromInteger(1))).message).toBe('Can not add Newtonsoft.Json.Linq.JValue to Newtonsoft.Json.Linq.JObject.');
    expect(thrown(() => new JArray().Add(JProperty.create('a', 1))).message).toBe('Can not add Newtonsoft.Json.Linq.JProperty to Newtonsoft.Json.Linq.JArray.');
  });

  it('typed JValues keep double vs integer', () => {
    const o = new JObject();
    o.Add('d', JValue.fromFloat(21));
    o.Add('i', JValue.fromInteger(21));
    expect(o.ToString('None')).toBe('{"d":21.0,"i":21}');
  });

  it('Children / Values / Properties / First / Last / Next / Previous / Descendants', () => {
    const o = JObject.Parse('{"a":1,"b":[2,3],"c":{"d":4}}');
    expect(o.Properties().map((p) => p.Name)).toEqual(['a', 'b', 'c']);
    expect(o.Children().length).toBe(3);
    expect(o.Values().map((v) => v.ToString('None'))).toEqual(['1', '[2,3]', '{"d":4}']);
    expect(
      o
        .get('b')!
        .Values()
        .map((v) => v.ToString()),
    ).toEqual(['2', '3']);
    expect((o.First as JProperty).Name).toBe('a');
    expect((o.Last as JProperty).Name).toBe('c');
    expect((o.Property('a')!.Next as JProperty).Name).toBe('b');
    expect(o.Property('a')!.Previous).toBeNull();
    expect(o.Descendants().length).toBe(10); // 3 properties + their values + 2, 3 + property d and 4
    expect(o.HasValues).toBe(true);
    expect(new JObject().HasValues).toBe(false);
    expect(thrown(() => JValue.fromInteger(1).First).typeName).toBe('InvalidOperationException');
  });

  it('DeepClone is equal but independent; DeepEquals compares values', () => {
    const o = JObject.Parse('{"a":[1,{"b":2}]}');
    const c = o.DeepClone();
    expect(c).not.toBe(o);
    expect(JToken.DeepEquals(o, c)).toBe(true);
    (c.get('a') as JArray).Add(3);
    expect(JToken.DeepEquals(o, c)).toBe(false);
    expect(JToken.DeepEquals(JToken.Parse('1'), JToken.Parse('1.0'))).toBe(true);
  });
});

describe('SelectToken', () => {
  const o = JObject.Parse(
    '{"a":{"b":[{"c":"first"},{"c":"second"}]},"x y":{"z":1},"x.y":2,"items":[{"name":"cheap","price":5},{"name":"dear","price":20},{"name":"mid","price":10}]}',
  );
  it.each<[string, string | null]>([
    ['a.b[0].c', 'first'],
    ['$.a.b[1].c', 'second'],
    ["['x y'].z", '1'],
    ["['x.y']", '2'],
    ['a.b[5]', null],
    ['missing.path', null],
    ['$.items[?(@.price > 10)].name', 'dear'],
    ["items[?(@.name == 'mid')].price", '10'],
    ['items[-1:].name', 'mid'],
  ])('%s → %s', (path, expected) => {
    const t = o.SelectToken(path);
    expect(t === null ? null : t.ToString()).toBe(expected);
  });
  it('SelectTokens returns every match (wildcards, recursive descent, slices)', () => {
    expect(o.SelectTokens('a.b[*].c').map((t) => t.ToString())).toEqual(['first', 'second']);
    expect(o.SelectTokens('..c').map((t) => t.ToString())).toEqual(['first', 'second']);
    expect(o.SelectTokens('items[0:2].name').map((t) => t.ToString())).toEqual(['cheap', 'dear']);
    expect(o.SelectTokens('items[?(@.price >= 10 && @.price < 20)].name').map((t) => t.ToString())).toEqual(['mid']);
  });
  it('several matches for SelectToken is JsonException', () => {
    const e = thrown(() => o.SelectToken('a.b[*].c'));
    expect(e.typeName).toBe('JsonException');
    expect(e.message).toBe('Path returned multiple tokens.');
  });
  it('errorWhenNoMatch throws', () => {
    expect(thrown(() => o.SelectToken('a.nope', true)).message).toBe("Property 'nope' does not exist on JObject.");
  });
});

describe('FromObject and JsonConvert', () => {
  it('FromObject keeps key order and value kinds', () => {
    const t = JObject.FromObject({ a: 1, b: [true, null], c: 'x', d: 1.5, e: new Map([['k', 'v']]) });
    expect(t.ToString('None')).toBe('{"a":1,"b":[true,null],"c":"x","d":1.5,"e":{"k":"v"}}');
  });
  it('SerializeObject is compact by default, Indented on request', () => {
    expect(serializeObject({ error: { code: 429, message: 'Too many' } })).toBe('{"error":{"code":429,"message":"Too many"}}');
    expect(serializeObject([1, 'a'], 'Indented')).toBe('[\n  1,\n  "a"\n]');
    expect(serializeObject('s"q')).toBe('"s\\"q"');
    expect(serializeObject(null)).toBe('null');
    expect(serializeObject(DateTime.create(2024, 3, 5, 1, 2, 3, 0, 'Utc'))).toBe('"2024-03-05T01:02:03Z"');
  });
  it('DeserializeObject returns containers as tokens and scalars as values', () => {
    expect(deserializeObject('{"a":1}')).toBeInstanceOf(JObject);
    expect(deserializeObject('[1]')).toBeInstanceOf(JArray);
    expect(deserializeObject('5')).toBe(5n);
    expect(deserializeObject('"x"')).toBe('x');
    expect(deserializeObject('2.5')).toBe(2.5);
    expect(deserializeObject('{"a":1}', 'JObject')).toBeInstanceOf(JObject);
    expect(thrown(() => deserializeObject('[1]', 'JObject')).typeName).toBe('InvalidCastException');
  });
});
