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

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    protocol: { type: 'string', default: 'openai' },
    port: { type: 'number', integer: true, min: 0, max: 65535, default: 8081 },
    host: { type: 'string', default: '127.0.0.1' },
    name: { type: 'string' },
    model: { type: 'string', multiple: true },
    'api-key': { type: 'string', multiple: true },
    'latency-ms': { type: 'number', integer: true, min: 0, default: 0 },
    'chunk-delay-ms': { type: 'number', integer: true, min: 0, default: 0 },
    help: { type: 'boolean', short: 'h', default: false },
  }, HELP);
  if (typeof values === 'number') return values;
  const protocol = values.protocol as SimulatorProtocol;
  if (!PROTOCOLS.includes(protocol)) {
    process.stderr.write(`--protocol must be one of ${PROTOCOLS.join(', ')}, got '${values.protocol}'\n`);
    return 2;
  }
  const { port, 'latency-ms': latencyMs, 'chunk-delay-ms': chunkDelayMs } = values;
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
