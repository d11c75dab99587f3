/** Formatting helpers shared by the report's renderers (docs/benchmarks.md). */
export const pct = (x: unknown, digits = 1): string => (typeof x === 'number' && Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : '–');
export const num = (x: unknown, digits = 2): string => (typeof x === 'number' && Number.isFinite(x) ? (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toFixed(digits)) : '–');
export const esc = (x: unknown): string => String(x ?? '–').replace(/\|/g, '\\|').replace(/\n/g, ' ');
export const fmt = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
export const fmtInt = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
export const range = (s: { min: number; median: number; max: number } | undefined, digits = 2, int = false): string => {
  if (s === undefined) return '–';
  const f = int ? fmtInt : (x: number) => fmt(x, digits);
  return f(s.min) === f(s.max) ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
};

export function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export type Obj = Record<string, unknown>;
export const obj = (x: unknown): Obj => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : {});
export const arr = (x: unknown): Obj[] => (Array.isArray(x) ? (x as Obj[]) : []);
