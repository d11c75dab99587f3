/**
 * Flag parsing shared by the CLI and its subcommands: a bad flag prints the error and the usage (exit 2), `--help` prints the
 * usage (exit 0); otherwise the parsed values. Numeric flags are declared as `{ type: 'number', ... }` and checked here, in one
 * place, so `--limit abc` is a usage error everywhere rather than a NaN that a command quietly treats as 0.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ArgOption = NonNullable<ParseArgsConfig['options']>[string];

/** A number given as text on the command line; `integer`, `min` and `max` are checked before the command sees it. */
export interface NumberOption {
  type: 'number';
  integer?: boolean;
  min?: number;
  max?: number;
  default?: number;
  short?: string;
}

type Option = ArgOption | NumberOption;
type Options = Record<string, Option>;
type TextOptions<O extends Options> = { [K in keyof O as O[K] extends NumberOption ? never : K]: Extract<O[K], ArgOption> };
type TextValues<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: TextOptions<O>; strict: true }>>['values'];
type NumberValues<O extends Options> = {
  [K in keyof O as O[K] extends NumberOption ? K : never]: O[K] extends { default: number } ? number : number | undefined;
};
export type Flags<O extends Options> = TextValues<O> & NumberValues<O>;

/** What a numeric option accepts, in words ("an integer 0-65535", "a number >= 0"). */
function describe(spec: NumberOption): string {
  const kind = spec.integer ? 'an integer' : 'a number';
  if (spec.min !== undefined && spec.max !== undefined) return `${kind} ${spec.min}-${spec.max}`;
  if (spec.min !== undefined) return `${kind} >= ${spec.min}`;
  if (spec.max !== undefined) return `${kind} <= ${spec.max}`;
  return kind;
}

/** Parses `text` as the number `spec` describes, or throws an error naming `label` (e.g. `--port`, `PORT`). */
export function parseNumber(text: string, spec: Omit<NumberOption, 'type' | 'default' | 'short'>, label: string): number {
  const n = text.trim() === '' ? NaN : Number(text);
  const ok = Number.isFinite(n) && (!spec.integer || Number.isInteger(n)) &&
    (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
  if (!ok) throw new Error(`${label} must be ${describe({ type: 'number', ...spec })}, got '${text}'`);
  return n;
}

/** Returns the values, or the exit code when the command should stop here. Every `options` must declare `help`. */
export function parseFlags<O extends Options & { help: { type: 'boolean' } }>(argv: string[], options: O, help: string): Flags<O> | number {
  const argOptions: Record<string, ArgOption> = {};
  for (const [name, opt] of Object.entries(options)) {
    argOptions[name] = opt.type === 'number' ? { type: 'string', ...(opt.short ? { short: opt.short } : {}) } : opt;
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, options: argOptions, strict: true }));
    if (values.help) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
    for (const [name, opt] of Object.entries(options)) {
      if (opt.type !== 'number') continue;
      const text = values[name] as string | undefined;
      values[name] = text === undefined ? opt.default : parseNumber(text, opt, `--${name}`);
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${help}\n`);
    return 2;
  }
  return values as Flags<O>;
}
