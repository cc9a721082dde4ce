import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { SourceText } from '../diagnostics/source.js';
import { displayPath, IO_UNREADABLE, readSource } from '../config/files.js';
import { loadApiops, type ApiopsFile, type ApiopsLoadOptions, type ApiopsLoadResult } from './load.js';

/** Bounds on a tree (a mistaken `--apiops /` must fail fast, not read the disk). */
export const MAX_TREE_FILES = 20_000;
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Whether a folder is an APIOps extract: it has one of the extractor's collection folders holding an information
 * file, or the service policy next to one of them (docs/apiops.md, Paths and names).
 */
export function isApiopsTree(dir: string): boolean {
  const has = (rel: string) => existsSync(path.join(dir, rel));
  const infoUnder = (collection: string, file: string): boolean => {
    try {
      return readdirSync(path.join(dir, collection), { withFileTypes: true }).some(
        (e) => e.isDirectory() && existsSync(path.join(dir, collection, e.name, file)),
      );
    } catch {
      return false;
    }
  };
  return (
    infoUnder('apis', 'apiInformation.json') ||
    infoUnder('named values', 'namedValueInformation.json') ||
    infoUnder('products', 'productInformation.json') ||
    infoUnder('backends', 'backendInformation.json') ||
    infoUnder('policy fragments', 'policyFragmentInformation.json') ||
    (has('policy.xml') && (has('apis') || has('named values') || has('policy fragments')))
  );
}

/** Reads every file under `dir` (sorted; dot-folders and node_modules skipped), bounded by MAX_TREE_FILES and MAX_FILE_BYTES. */
export function readApiopsTree(dir: string, diagnostics: Diagnostic[]): ApiopsFile[] {
  const root = path.resolve(dir);
  const out: ApiopsFile[] = [];
  try {
    if (!statSync(root).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    diagnostics.push({
      severity: 'error',
      code: IO_UNREADABLE,
      message: `cannot read the APIOps folder ${displayPath(root)}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'it is a file, not a folder' : (e as Error).message}`,
      file: displayPath(root),
    });
    return out;
  }
  const walk = (abs: string, rel: string): boolean => {
    for (const e of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!walk(p, r)) return false;
        continue;
      }
      if (!e.isFile()) continue;
      if (out.length >= MAX_TREE_FILES) {
        diagnostics.push({
          severity: 'error',
          code: 'apiops/tree-too-large',
          message: `the APIOps folder ${displayPath(root)} has more than ${MAX_TREE_FILES} files; is it the right folder?`,
          file: displayPath(root),
          hint: 'point --apiops at the extractor output folder (the one holding apis/, products/, policy.xml)',
        });
        return false;
      }
      if (statSync(p).size > MAX_FILE_BYTES) {
        diagnostics.push({
          severity: 'error',
          code: 'apiops/file-too-large',
          message: `${displayPath(p)} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`,
          file: displayPath(p),
          hint: 'APIOps files are small JSON, YAML and XML documents',
        });
        continue;
      }
      const s = readSource(p, diagnostics);
      if (s) out.push({ rel: r, source: s });
    }
    return true;
  };
  walk(root, '');
  return out;
}

/** Reads an APIOps tree and its override file, then loads it (the file-reading edge of loadApiops). */
export function loadApiopsFolder(dir: string, o: Omit<ApiopsLoadOptions, 'overrides'> & { overridesFile?: string }): ApiopsLoadResult {
  const diagnostics: Diagnostic[] = [];
  const files = readApiopsTree(dir, diagnostics);
  let overrides: SourceText | undefined;
  if (o.overridesFile) {
    const s = readSource(path.resolve(o.overridesFile), diagnostics, { file: displayPath(o.overridesFile), jsonPath: '--apiops-config' });
    if (s) overrides = s;
  }
  const r = loadApiops(files, { ...o, ...(overrides ? { overrides } : {}) });
  const all = [...diagnostics, ...r.diagnostics];
  return {
    ...r,
    definition: all.some((d) => d.severity === 'error') ? null : r.definition,
    diagnostics: all,
    files: overrides ? [...r.files, overrides.file] : r.files,
  };
}

/** Fingerprint of the files a reload would read: path, size and mtime (cheap to compare on every watch event). */
export function treeStamp(dir: string): string {
  const parts: string[] = [];
  const walk = (abs: string): void => {
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(abs, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          const s = statSync(p);
          parts.push(`${p}:${s.size}:${s.mtimeMs}`);
        } catch {
          /* removed meanwhile */
        }
      }
    }
  };
  walk(path.resolve(dir));
  return parts.sort().join('\n');
}
