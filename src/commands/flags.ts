/**
 * Flag parsing shared by the CLI subcommands: a bad flag prints the error and the usage (exit 2), `--help` prints the usage
 * (exit 0); otherwise the parsed values.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
export type Flags<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true }>>['values'];

/** Returns the values, or the exit code when the command should stop here. Every `options` must declare `help`. */
export function parseFlags<O extends Options & { help: { type: 'boolean' } }>(argv: string[], options: O, help: string): Flags<O> | number {
  let values: Flags<O>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${help}\n`);
    return 2;
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  return values;
}
