/**
 * @module Syntax tree of the SQL-like rule text; every node keeps its source offset for semantic errors.
 */
import type { PathSegment } from '../core/json-path.ts';
import type { AggFn, CompareOp, Literal } from '../core/plan.ts';

/** `room`, `a.id`, `payload.values[0]`: the first name may be a source alias, resolved by the compiler. */
export type SqlField = { readonly parts: readonly PathSegment[]; readonly offset: number };

export type SqlSelectItem =
  | { readonly kind: 'field'; readonly field: SqlField; readonly as: string | null; readonly offset: number }
  | { readonly kind: 'aggregate'; readonly fn: AggFn; readonly arg: SqlField | '*'; readonly as: string | null; readonly offset: number };

export type SqlOperand = { readonly kind: 'field'; readonly field: SqlField } | { readonly kind: 'literal'; readonly value: Literal; readonly offset: number };

export type SqlCondition =
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: SqlOperand; readonly right: SqlOperand; readonly offset: number }
  | { readonly kind: 'and' | 'or'; readonly left: SqlCondition; readonly right: SqlCondition }
  | { readonly kind: 'not'; readonly arg: SqlCondition };

export type SqlSource = { readonly topic: string; readonly alias: string | null; readonly offset: number };

/** The window clause as written; durations already in ms. */
export type SqlWindow =
  | { readonly kind: 'tumbling'; readonly sizeMs: number; readonly offset: number }
  | { readonly kind: 'sliding'; readonly sizeMs: number; readonly slideMs: number; readonly offset: number }
  | { readonly kind: 'count'; readonly size: number; readonly slide: number | null; readonly offset: number };

export type SqlJoin = {
  readonly source: SqlSource;
  readonly on: { readonly left: SqlField; readonly right: SqlField; readonly offset: number };
  readonly withinMs: number;
  readonly withinOffset: number;
};

export type SqlQuery = {
  /** '*' or the select list. */
  readonly select: '*' | readonly SqlSelectItem[];
  readonly selectOffset: number;
  readonly from: SqlSource;
  readonly join: SqlJoin | null;
  readonly window: SqlWindow | null;
  readonly where: SqlCondition | null;
  readonly groupBy: SqlField | null;
};
