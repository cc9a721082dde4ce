/**
 * .NET exceptions thrown by the emulated class library (what a policy expression's `catch` and APIM's
 * `ExpressionValueEvaluationFailure` see).
 *
 * Provides: DotNetException (typeName, Message, ParamName) and factory helpers carrying .NET's own message texts
 * (.NET 6+/Core wording, e.g. "... (Parameter 'startIndex')").
 */

export type DotNetExceptionType =
  | 'Exception'
  | 'NullReferenceException'
  | 'ArgumentException'
  | 'ArgumentNullException'
  | 'ArgumentOutOfRangeException'
  | 'InvalidCastException'
  | 'KeyNotFoundException'
  | 'FormatException'
  | 'JsonReaderException'
  | 'JsonSerializationException'
  | 'JsonException'
  | 'InvalidOperationException'
  | 'OverflowException'
  | 'IndexOutOfRangeException'
  | 'NotSupportedException'
  | 'RegexParseException'
  | 'UriFormatException'
  | 'CryptographicException'
  | 'DivideByZeroException'
  | 'OutOfMemoryException'
  | 'InsufficientExecutionStackException'
  | 'RegexMatchTimeoutException'
  | 'JsonWriterException'
  | 'XmlException';

/** A .NET exception. `message` is exactly .NET's `Exception.Message`. */
export class DotNetException extends Error {
  constructor(
    readonly typeName: DotNetExceptionType,
    message: string,
    readonly paramName?: string,
  ) {
    super(message);
    this.name = typeName;
  }

  /** `Exception.Message`. */
  get Message(): string {
    return this.message;
  }

  /** `System.` / `Newtonsoft.Json.` qualified name, as `GetType().FullName` would give. */
  get fullTypeName(): string {
    switch (this.typeName) {
      case 'JsonReaderException':
      case 'JsonWriterException':
      case 'JsonSerializationException':
      case 'JsonException':
        return `Newtonsoft.Json.${this.typeName}`;
      case 'XmlException':
        return 'System.Xml.XmlException';
      case 'KeyNotFoundException':
        return 'System.Collections.Generic.KeyNotFoundException';
      case 'RegexParseException':
      case 'RegexMatchTimeoutException':
        return `System.Text.RegularExpressions.${this.typeName}`;
      case 'CryptographicException':
        return 'System.Security.Cryptography.CryptographicException';
      default:
        return `System.${this.typeName}`;
    }
  }
}

/** .NET appends the parameter name to argument exception messages. */
function withParam(message: string, paramName: string | undefined): string {
  return paramName ? `${message} (Parameter '${paramName}')` : message;
}

export function nullReference(): DotNetException {
  return new DotNetException('NullReferenceException', 'Object reference not set to an instance of an object.');
}

export function argumentNull(paramName: string): DotNetException {
  return new DotNetException('ArgumentNullException', withParam('Value cannot be null.', paramName), paramName);
}

export function argumentOutOfRange(paramName: string, message: string): DotNetException {
  return new DotNetException('ArgumentOutOfRangeException', withParam(message, paramName), paramName);
}

export function argument(message: string, paramName?: string): DotNetException {
  return new DotNetException('ArgumentException', withParam(message, paramName), paramName);
}

export function formatError(message = 'Input string was not in a correct format.'): DotNetException {
  return new DotNetException('FormatException', message);
}

export function overflow(typeName: string): DotNetException {
  return new DotNetException('OverflowException', `Value was either too large or too small for ${articleFor(typeName)} ${typeName}.`);
}

function articleFor(typeName: string): string {
  return /^[AEIOU]/.test(typeName) ? 'an' : 'a';
}

export function invalidCast(message: string): DotNetException {
  return new DotNetException('InvalidCastException', message);
}

export function invalidOperation(message: string): DotNetException {
  return new DotNetException('InvalidOperationException', message);
}

export function keyNotFound(key: string): DotNetException {
  return new DotNetException('KeyNotFoundException', `The given key '${key}' was not present in the dictionary.`);
}

export function indexOutOfRange(): DotNetException {
  return new DotNetException('IndexOutOfRangeException', 'Index was outside the bounds of the array.');
}

export function notSupported(message: string): DotNetException {
  return new DotNetException('NotSupportedException', message);
}

/**
 * Largest string (UTF-16 code units) or collection an expression may build. .NET allows about 2^30 characters, far
 * beyond what a gateway request can afford; the emulator raises .NET's OutOfMemoryException earlier so one hostile
 * expression cannot exhaust the process (docs/expressions.md, "Limits").
 */
export const MAX_STRING_LENGTH = 1 << 24;
export const MAX_COLLECTION_LENGTH = 1 << 24;

export function outOfMemory(): DotNetException {
  return new DotNetException('OutOfMemoryException', "Exception of type 'System.OutOfMemoryException' was thrown.");
}

/** Throws OutOfMemoryException when a string of `length` code units would exceed MAX_STRING_LENGTH. */
export function ensureStringLength(length: number): void {
  if (length > MAX_STRING_LENGTH) throw outOfMemory();
}
