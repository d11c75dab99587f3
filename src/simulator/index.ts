export { startSimulator } from './server.js';
export type { Fault, RecordedRequest, Simulator, SimulatorOptions, SimulatorProtocol } from './types.js';
