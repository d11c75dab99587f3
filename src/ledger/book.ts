/**
 * Hourly buckets of ledger rows in memory, bounded twice: hours older than the retention are dropped, and each hour holds at
 * most `maxRows` distinct dimension rows, then as many again whose model reads "other", then one row whose dimensions all
 * read "other" (totals stay exact). The model is the one dimension a caller names (`provider/<model>` is passed through):
 * a caller filling an hour with made-up models folds its own newcomers first, and every other tenant's new rows still
 * keep who paid (key, team, customer) and the provider.
 */
import { AMOUNTS, DIMENSIONS } from './entry.js';

const MODEL = DIMENSIONS.indexOf('model');

export const HOUR_MS = 3_600_000;
export const OTHER = 'other';
export const OTHER_DIMS: readonly string[] = DIMENSIONS.map(() => OTHER);
export const OTHER_ID = JSON.stringify(OTHER_DIMS);

export interface Row {
  dims: readonly string[];
  amounts: number[];
  /** rowId(dims), when the row is a book's. */
  id?: string;
}

export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const rowId = (dims: readonly string[]): string => JSON.stringify(dims);

export class HourlyBook {
  private readonly hours = new Map<number, Map<string, Row>>();

  /** Bounds may change on a config reload; they apply from the next row or hour. */
  constructor(public maxRows: number, public retentionHours = Infinity) {}

  /**
   * Adds amounts to the row of `dims` in the hour of `at`; returns the row they went to (past the bound, a row of fewer
   * dimensions), so a copy of the book elsewhere (Redis) can file them the same way.
   */
  add(at: number, dims: readonly string[], amounts: readonly number[], id = rowId(dims)): Row {
    const hour = hourOf(at);
    let rows = this.hours.get(hour);
    if (rows === undefined) {
      rows = new Map();
      this.hours.set(hour, rows);
      this.prune(hour);
    }
    let row = rows.get(id);
    if (row === undefined) {
      if (rows.size < this.maxRows) rows.set(id, (row = newRow(dims, id)));
      else row = this.folded(rows, dims);
    }
    const a = row.amounts;
    for (let i = 0; i < a.length; i++) a[i] += amounts[i];
    return row;
  }

  /** The row past the bound: the same dimensions with the model read "other" while there is room, else the all-"other" row. */
  private folded(rows: Map<string, Row>, dims: readonly string[]): Row {
    let to = dims;
    if (dims[MODEL] !== OTHER) {
      const d = dims.slice();
      d[MODEL] = OTHER;
      to = d;
    }
    const id = rowId(to);
    let row = rows.get(id);
    if (row === undefined) {
      if (rows.size < 2 * this.maxRows) rows.set(id, (row = newRow(to, id)));
      else {
        row = rows.get(OTHER_ID);
        if (row === undefined) rows.set(OTHER_ID, (row = newRow(OTHER_DIMS, OTHER_ID)));
      }
    }
    return row;
  }

  /** Drops hours that fell out of the retention window. */
  private prune(newest: number): void {
    const oldest = newest - (this.retentionHours - 1) * HOUR_MS;
    for (const h of this.hours.keys()) if (h < oldest) this.hours.delete(h);
  }

  /** Rows of the hours in [fromHour, toHour]. */
  *rows(fromHour: number, toHour: number): Generator<{ hour: number; row: Row }> {
    for (const [hour, rows] of this.hours) {
      if (hour < fromHour || hour > toHour) continue;
      for (const row of rows.values()) yield { hour, row };
    }
  }

  /** Every hour with its rows (for a flush). */
  entries(): IterableIterator<[number, Map<string, Row>]> {
    return this.hours.entries();
  }

  get size(): number {
    return this.hours.size;
  }
}

const newRow = (dims: readonly string[], id: string): Row => ({ dims, amounts: new Array<number>(AMOUNTS.length).fill(0), id });
