export { loadApiops, detectLayout, type ApiopsFile, type ApiopsLayout, type ApiopsLoadOptions, type ApiopsLoadResult } from './load.js';
export { isApiopsTree, readApiopsTree, loadApiopsFolder, treeStamp, MAX_TREE_FILES, MAX_FILE_BYTES } from './files.js';
export { Overrides, deepMerge } from './overrides.js';
export { openApiOperations, wadlOperations, type SpecOperation, type SpecExample } from './specification.js';
