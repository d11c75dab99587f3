/**
 * The upstream for the proxy benchmark: the OpenAI-protocol simulator with no added latency, in its own process. It clears its
 * request record every second so a long run holds no growing history. Prints `{"url","origin"}` on stdout once listening.
 *   node dist/bench/load/upstream.js
 */
import { startSimulator } from '../../src/simulator/index.js';

const sim = await startSimulator({ protocol: 'openai', name: 'bench', host: '127.0.0.1', port: 0 });
setInterval(() => sim.reset(), 1000).unref();
process.stdout.write(`${JSON.stringify({ url: sim.url, origin: `http://127.0.0.1:${sim.port}` })}\n`);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
