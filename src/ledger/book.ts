/**
 * Hourly buckets of ledger rows in memory, bounded twice: hours older than the retention are dropped, and each hour holds at
 * most `maxRows` distinct dimension rows (later newcomers are added to one row whose dimensions all read "other", so totals
 * stay exact).
 */
import { AMOUNTS, DIMENSIONS } from './entry.js';

export const HOUR_MS = 3_600_000;
export const OTHER = 'other';
export const OTHER_DIMS: readonly string[] = DIMENSIONS.map(() => OTHER);
export const OTHER_ID = JSON.stringify(OTHER_DIMS);

export interface Row {
  dims: readonly string[];
  amounts: number[];
}

export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const rowId = (dims: readonly string[]): string => JSON.stringify(dims);

export class HourlyBook {
  private readonly hours = new Map<number, Map<string, Row>>();

  /** Bounds may change on a config reload; they apply from the next row or hour. */
  constructor(public maxRows: number, public retentionHours = Infinity) {}

  /**
   * Adds amounts to the row of `dims` in the hour of `at`; returns the row they went to (the "other" row when the hour was
   * full), so a copy of the book elsewhere (Redis) can file them the same way.
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
      if (rows.size >= this.maxRows) {
        row = rows.get(OTHER_ID);
        if (row === undefined) rows.set(OTHER_ID, (row = { dims: OTHER_DIMS, amounts: new Array<number>(AMOUNTS.length).fill(0) }));
      } else {
        rows.set(id, (row = { dims, amounts: new Array<number>(AMOUNTS.length).fill(0) }));
      }
    }
    const a = row.amounts;
    for (let i = 0; i < a.length; i++) a[i] += amounts[i];
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
