/**
 * Where the admin API lives on a listener. Kept apart from admin.ts (which builds the Express router) so the server can
 * route requests before Express is loaded: `serve` listens first and loads the admin API's modules right after.
 */
export const ADMIN_PREFIX = '/_emulator';

/** True for `/_emulator` and everything under `/_emulator/` (case-insensitive, like Express routing). */
export function isAdminPath(url: string): boolean {
  if (url.length < ADMIN_PREFIX.length || url.charCodeAt(1) !== 95 /* _ */) return false;
  const head = url.slice(0, ADMIN_PREFIX.length).toLowerCase();
  if (head !== ADMIN_PREFIX) return false;
  const next = url.charAt(ADMIN_PREFIX.length);
  return next === '' || next === '/' || next === '?';
}
