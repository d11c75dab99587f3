/**
 * `switchyard simulate`: runs one upstream simulator until SIGTERM or SIGINT.
 */
import { parseFlags } from './flags.js';
import { startSimulator } from '../simulator/server.js';
import type { SimulatorProtocol } from '../simulator/types.js';

const HELP = `Usage: switchyard simulate [options]

Runs a simulated upstream LLM provider (deterministic replies, fault injection) until SIGTERM/SIGINT.

Options:
  --protocol <p>        openai | anthropic | azure (default openai)
  --port <n>            port to listen on (default 8081; 0 = ephemeral)
  --host <h>            address to bind (default 127.0.0.1)
  --name <s>            name echoed in replies as "[<name>] ..." (default: the protocol)
  --model <m>           a model (azure: deployment) to serve; repeat for several (default: any)
  --api-key <k>         an accepted API key; repeat for several (default: any key)
  --latency-ms <n>      delay before each response's headers (default 0)
  --chunk-delay-ms <n>  delay between streamed chunks (default 0)
  -h, --help            show this help
`;

const PROTOCOLS: readonly SimulatorProtocol[] = ['openai', 'anthropic', 'azure'];

function nonNegativeInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${flag} must be a non-negative integer, got '${value}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    protocol: { type: 'string', default: 'openai' },
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    name: { type: 'string' },
    model: { type: 'string', multiple: true },
    'api-key': { type: 'string', multiple: true },
    'latency-ms': { type: 'string' },
    'chunk-delay-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  }, HELP);
  if (typeof values === 'number') return values;
  const protocol = values.protocol as SimulatorProtocol;
  if (!PROTOCOLS.includes(protocol)) {
    process.stderr.write(`--protocol must be one of ${PROTOCOLS.join(', ')}, got '${values.protocol}'\n`);
    return 2;
  }
  let port: number, latencyMs: number, chunkDelayMs: number;
  try {
    port = nonNegativeInt('port', values.port, 8081);
    latencyMs = nonNegativeInt('latency-ms', values['latency-ms'], 0);
    chunkDelayMs = nonNegativeInt('chunk-delay-ms', values['chunk-delay-ms'], 0);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const sim = await startSimulator({
    protocol, port, host: values.host, name: values.name, models: values.model, apiKeys: values['api-key'],
    latencyMs, tokensPerChunkDelayMs: chunkDelayMs,
  });
  process.stdout.write(`simulator '${sim.name}' (${protocol}) listening at ${sim.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await sim.close();
  return 0;
}
