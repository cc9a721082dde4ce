/** Syntax tree of the C# subset. `pos` is an index into the expression's text. */

export interface TypeNode {
  kind: 'type';
  pos: number;
  /** Dotted name as written, e.g. "System.Text.Encoding", "int", "List". */
  name: string;
  args: TypeNode[];
  /** Array rank suffixes: number of `[]` after the name. */
  arrayRank: number;
  nullable: boolean;
}

export type Expr =
  | {
      kind: 'literal';
      pos: number;
      value: unknown;
      litType: 'int' | 'long' | 'uint' | 'ulong' | 'double' | 'float' | 'decimal' | 'bool' | 'string' | 'char' | 'null';
    }
  | { kind: 'interp'; pos: number; parts: Array<{ text: string } | { expr: Expr; align: Expr | null; format: string | null }> }
  | { kind: 'name'; pos: number; name: string; typeArgs: TypeNode[] | null }
  | { kind: 'member'; pos: number; target: Expr; name: string; namePos: number; typeArgs: TypeNode[] | null; conditional: boolean }
  | { kind: 'call'; pos: number; callee: Expr; args: Arg[] }
  | { kind: 'index'; pos: number; target: Expr; args: Arg[]; conditional: boolean }
  | { kind: 'unary'; pos: number; op: string; operand: Expr }
  | { kind: 'postfix'; pos: number; op: '++' | '--'; operand: Expr }
  | { kind: 'prefix'; pos: number; op: '++' | '--'; operand: Expr }
  | { kind: 'binary'; pos: number; op: string; left: Expr; right: Expr }
  | { kind: 'assign'; pos: number; op: string; target: Expr; value: Expr }
  | { kind: 'conditional'; pos: number; cond: Expr; then: Expr; else: Expr }
  | { kind: 'cast'; pos: number; type: TypeNode; operand: Expr }
  | { kind: 'is'; pos: number; operand: Expr; type: TypeNode | null; negated: boolean; nullPattern: boolean; declName: string | null }
  | { kind: 'as'; pos: number; operand: Expr; type: TypeNode }
  | { kind: 'new'; pos: number; type: TypeNode; args: Arg[] | null; init: Initializer | null }
  | { kind: 'newArray'; pos: number; elemType: TypeNode | null; size: Expr | null; items: Expr[] | null }
  | { kind: 'newAnon'; pos: number; fields: Array<{ name: string; pos: number; value: Expr }> }
  | { kind: 'lambda'; pos: number; params: Array<{ name: string; pos: number; type: TypeNode | null }>; body: Expr | Stmt }
  | { kind: 'typeof'; pos: number; type: TypeNode }
  | { kind: 'default'; pos: number; type: TypeNode | null }
  | { kind: 'typeExpr'; pos: number; type: TypeNode }
  /** `checked(e)` / `unchecked(e)`: sets the overflow-checking context of the integer arithmetic inside. */
  | { kind: 'checkedExpr'; pos: number; checked: boolean; operand: Expr };

export interface Arg {
  pos: number;
  name: string | null;
  /** `out var x`, `out int x`, `out x`, `ref x`. */
  modifier: 'out' | 'ref' | null;
  /** For `out var x` / `out T x`: the declared local. */
  outDecl: { name: string; type: TypeNode | null; pos: number } | null;
  value: Expr;
}

export type Initializer =
  | { kind: 'collection'; pos: number; items: Array<{ pos: number; args: Expr[] }> }
  | { kind: 'object'; pos: number; members: Array<{ pos: number; name: string | null; index: Expr[] | null; value: Expr }> };

export type Stmt =
  | { kind: 'block'; pos: number; body: Stmt[] }
  | { kind: 'expr'; pos: number; expr: Expr }
  | { kind: 'decl'; pos: number; type: TypeNode | null; vars: Array<{ name: string; pos: number; init: Expr | null }> }
  | { kind: 'if'; pos: number; cond: Expr; then: Stmt; else: Stmt | null }
  | { kind: 'while'; pos: number; cond: Expr; body: Stmt }
  | { kind: 'do'; pos: number; cond: Expr; body: Stmt }
  | { kind: 'for'; pos: number; init: Stmt[]; cond: Expr | null; update: Expr[]; body: Stmt }
  | { kind: 'foreach'; pos: number; varType: TypeNode | null; name: string; namePos: number; iter: Expr; body: Stmt }
  | { kind: 'switch'; pos: number; subject: Expr; sections: Array<{ pos: number; labels: Array<Expr | null>; body: Stmt[] }> }
  | { kind: 'break'; pos: number }
  | { kind: 'continue'; pos: number }
  | { kind: 'return'; pos: number; value: Expr | null }
  | { kind: 'throw'; pos: number; value: Expr | null }
  | {
      kind: 'try';
      pos: number;
      body: Stmt;
      catches: Array<{ pos: number; type: TypeNode | null; name: string | null; when: Expr | null; body: Stmt }>;
      fin: Stmt | null;
    }
  | { kind: 'using'; pos: number; decl: Stmt | null; expr: Expr | null; body: Stmt }
  | { kind: 'empty'; pos: number }
  /** `checked { }` / `unchecked { }`. */
  | { kind: 'checked'; pos: number; checked: boolean; body: Stmt }
  /** A local function (C# 7): `int F(int x) { ... }` or `int F(int x) => ...;`. */
  | { kind: 'localFunc'; pos: number; name: string; namePos: number; ret: TypeNode; params: LocalFuncParam[]; body: Stmt };

export interface LocalFuncParam {
  name: string;
  pos: number;
  type: TypeNode;
  /** Default value of an optional parameter (a constant expression). */
  def: Expr | null;
}
