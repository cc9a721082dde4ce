/** Reachability of statements (C#'s "not all code paths return a value" and switch fall-through checks). */
import type { Expr, Stmt } from './ast.js';

// ---- reachability ("all code paths return") ------------------------------------------------------------------

export function canComplete(s: Stmt): boolean {
  switch (s.kind) {
    case 'return':
    case 'throw':
    case 'break':
    case 'continue':
      return false;
    case 'block':
      return canCompleteList(s.body);
    case 'if':
      return !s.else || canComplete(s.then) || canComplete(s.else);
    case 'while':
      return !(isTrue(s.cond) && !containsBreak(s.body));
    case 'do':
      return !(isTrue(s.cond) && !containsBreak(s.body)) && (canComplete(s.body) || containsContinue(s.body) || containsBreak(s.body));
    case 'for':
      return !((s.cond === null || isTrue(s.cond)) && !containsBreak(s.body));
    case 'switch': {
      const hasDefault = s.sections.some((sec) => sec.labels.includes(null));
      if (!hasDefault) return true;
      return s.sections.some((sec) => sec.body.some((b) => containsBreak(b, true)) || canCompleteList(sec.body));
    }
    case 'try': {
      const main = canComplete(s.body) || s.catches.some((c) => canComplete(c.body));
      return s.fin ? main && canComplete(s.fin) : main;
    }
    case 'using':
    case 'checked':
      return canComplete(s.body);
    default:
      return true; // a local function declaration does not transfer control
  }
}

export function canCompleteList(list: Stmt[]): boolean {
  for (const s of list) if (!canComplete(s)) return false;
  return true;
}

function isTrue(e: Expr): boolean {
  return e.kind === 'literal' && e.value === true;
}

/** Whether a break targeting the enclosing loop (or switch when `inSwitch`) occurs in s. */
function containsBreak(s: Stmt, inSwitch = false): boolean {
  switch (s.kind) {
    case 'break':
      return true;
    case 'block':
      return s.body.some((x) => containsBreak(x, inSwitch));
    case 'if':
      return containsBreak(s.then, inSwitch) || (s.else ? containsBreak(s.else, inSwitch) : false);
    case 'try':
      return containsBreak(s.body, inSwitch) || s.catches.some((c) => containsBreak(c.body, inSwitch)) || (s.fin ? containsBreak(s.fin, inSwitch) : false);
    case 'using':
    case 'checked':
      return containsBreak(s.body, inSwitch);
    default:
      return false; // nested loops and switches own their breaks
  }
}

function containsContinue(s: Stmt): boolean {
  switch (s.kind) {
    case 'continue':
      return true;
    case 'block':
      return s.body.some(containsContinue);
    case 'if':
      return containsContinue(s.then) || (s.else ? containsContinue(s.else) : false);
    case 'try':
      return containsContinue(s.body) || s.catches.some((c) => containsContinue(c.body));
    case 'using':
    case 'checked':
      return containsContinue(s.body);
    default:
      return false;
  }
}

/** Position of the closing brace of a block (for "not all code paths return"). */
export function endPos(block: Stmt, text: string): number {
  void text;
  if (block.kind === 'block' && block.body.length) return block.body[block.body.length - 1]!.pos;
  return block.pos;
}
