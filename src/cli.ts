#!/usr/bin/env node
/**
 * `switchyard` — starts the gateway, or runs a subcommand (simulate, eval, fit, build-refs, cache-eval, safety-eval).
 *   switchyard [--config <file>] [--port <n>] [--host <addr>] [--demo]
 * Env: SWITCHYARD_CONFIG (config file), PORT, HOST.
 */
import { parseFlags, parseNumber } from './commands/flags.js';
import type { Config } from './config/schema.js';
import type { Demo } from './demo.js';

const SUBCOMMANDS = new Set(['simulate', 'eval', 'fit', 'build-refs', 'cache-eval', 'safety-eval']);

const HELP = `Usage: switchyard [options]            start the gateway
       switchyard <command> [options]  run a tool: ${[...SUBCOMMANDS].join(', ')} (each has --help)

Options:
  --config <file>  YAML config (default: $SWITCHYARD_CONFIG, else embedded defaults)
  --port <n>       listen port (default: $PORT, else server.port, 8080)
  --host <addr>    listen address (default: $HOST, else server.host, 127.0.0.1)
  --demo           start local upstream simulators and a demo config (offline)
  -h, --help       this text`;

const PORT = { integer: true, min: 0, max: 65535 } as const;

async function main(argv: string[]): Promise<number> {
  const sub = argv[0];
  if (sub && SUBCOMMANDS.has(sub)) {
    const mod = (await import(`./commands/${sub}.js`)) as { run(argv: string[]): Promise<number> };
    return mod.run(argv.slice(1));
  }
  const values = parseFlags(argv, {
    config: { type: 'string' },
    port: { type: 'number', ...PORT },
    host: { type: 'string' },
    demo: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  }, HELP);
  if (typeof values === 'number') return values;
  let port = values.port;
  if (port === undefined && process.env.PORT) {
    try {
      port = parseNumber(process.env.PORT, PORT, 'PORT');
    } catch (err) {
      console.error(`switchyard: ${(err as Error).message}`);
      return 2;
    }
  }
  // The gateway's modules load only once the arguments are known good, so help and usage errors answer at once.
  const [{ loadConfigFile }, { embeddedDefaults }, { startGateway }, { startDemo }] = await Promise.all([
    import('./config/load.js'), import('./config/defaults.js'), import('./gateway.js'), import('./demo.js'),
  ]);
  const file = values.config ?? process.env.SWITCHYARD_CONFIG;
  let config: Config;
  let demo: Demo | undefined;
  if (values.demo) {
    demo = await startDemo();
    config = demo.config;
  } else if (file) {
    const res = await loadConfigFile(file);
    if (!res.ok) {
      console.error(`switchyard: the config file is invalid:\n  ${res.errors.join('\n  ')}`);
      return 2;
    }
    config = res.config;
  } else {
    config = embeddedDefaults();
  }
  const gateway = await startGateway({ config, configPath: values.demo ? undefined : file, host: values.host ?? process.env.HOST, port });
  // Whatever escapes every handler is logged and counted; one request's bug never takes the others down with the process.
  process.on('uncaughtException', (err) => gateway.unexpected(err, 'process'));
  process.on('unhandledRejection', (err) => gateway.unexpected(err, 'process'));
  if (Object.keys(config.providers).length === 0) {
    gateway.logger.warn('no providers configured: set OPENAI_API_KEY and/or ANTHROPIC_API_KEY, pass --config <file>, or try --demo');
  }
  if (demo) {
    const ask = (q: string): string =>
      `  curl -si ${gateway.url}/v1/chat/completions -H 'content-type: application/json' \\\n    -d '{"model":"auto","messages":[{"role":"user","content":"${q}"}]}'`;
    console.log([
      `\nSwitchyard demo on ${gateway.url} — routes by intent (see the x-switchyard-intent and x-switchyard-rule headers):`,
      ask('Write a haiku about trains'),
      ask('Fix this Python function that reverses a list'),
      ask('hey, how are you today?'),
      ask('Two trains leave stations 300 km apart and travel toward each other at 70 and 80 km/h. When do they meet?'),
      `  dashboard: ${gateway.url}/dashboard?key=${config.server.admin_key}`,
      `  explain:   curl ${gateway.url}/admin/route/explain -H 'x-admin-key: ${config.server.admin_key}' -H 'content-type: application/json' -d '{"request":{"model":"auto","messages":[{"role":"user","content":"Solve 2x+3=7"}]}}'\n`,
    ].join('\n'));
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      gateway.logger.info({ signal }, 'shutting down: draining in-flight requests');
      void gateway.close().then(() => demo?.close()).then(resolve);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => void gateway.reload());
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`switchyard: ${(err as Error)?.message ?? String(err)}`);
    process.exit(1);
  },
);
