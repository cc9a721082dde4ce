import { expect } from 'vitest';
import { DotNetException } from '../../src/dotnet/exceptions.js';

/** The .NET exception `fn` throws; fails the test when it returns or throws anything else. */
export function thrown(fn: () => unknown): DotNetException {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DotNetException);
    return e as DotNetException;
  }
  throw new Error('expected a .NET exception');
}
