/** Shared helpers of the benchmarks: flags, child processes, loopback servers, load generation, statistics, tables. */
export * from './args.js';
export * from './stats.js';
export * from './http.js';
export * from './load.js';
export * from './process.js';
