import { watch, type FSWatcher } from 'node:fs';

/** A folder to watch: an APIOps tree recursively; the folder of a single input file (config, policy) on its own. */
export interface WatchTarget {
  dir: string;
  recursive: boolean;
}

/** Quiet time after the last file event before reloading: an editor's save is often several events. */
export const WATCH_DEBOUNCE_MS = 100;

/**
 * `serve --watch`: watches the folders the inputs were read from (an APIOps tree recursively, other folders without
 * their subfolders, so a config in a repository root does not watch node_modules) and calls `changed`
 * once per burst of file events. Editor scratch files (dot files, `~` backups, swap files) are ignored.
 */
export class InputWatcher {
  private watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    targets: WatchTarget[],
    private readonly changed: () => void,
    private readonly warn: (message: string) => void,
  ) {
    this.update(targets);
  }

  /** Watches exactly these folders from now on (a reload may have added or removed files). */
  update(targets: WatchTarget[]): void {
    if (this.closed) return;
    const want = new Map(targets.map((t) => [`${t.recursive ? 'r' : 'd'}:${t.dir}`, t]));
    for (const [dir, w] of this.watchers) {
      if (want.has(dir)) continue;
      w.close();
      this.watchers.delete(dir);
    }
    for (const [key, t] of want) {
      if (this.watchers.has(key)) continue;
      try {
        const w = watch(t.dir, { recursive: t.recursive }, (_event, name) => this.onEvent(name));
        w.on('error', (e) => this.warn(`--watch: stopped watching ${t.dir}: ${e.message}`));
        this.watchers.set(key, w);
      } catch (e) {
        this.warn(`--watch: cannot watch ${t.dir}: ${(e as Error).message}`);
      }
    }
  }

  private onEvent(name: string | Buffer | null): void {
    const base =
      String(name ?? '')
        .split(/[\\/]/)
        .pop() ?? '';
    if (base.startsWith('.') || base.endsWith('~') || /\.(swp|swx|tmp)$/i.test(base) || /^\d+$/.test(base)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.closed) this.changed();
    }, WATCH_DEBOUNCE_MS);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
