/** Public surface of governance: what the app wires. */
export { governanceConfigSchema, type GovernanceConfig } from './config.js';
export { Governance, type GovernanceDeps, type GovernanceHealth, type UsageReport } from './governance.js';
export { createAccessStage, createGovernanceStage, type GovernanceStageDeps } from './stage.js';
export { governanceAdminRouter, type AdminRouterOptions } from './admin.js';
export { Pricing, BUILTIN_PRICES } from './pricing.js';
export { estimateTokens, estimatePromptTokens, TokenCounter } from './tokens.js';
export { digestsEqual, generateKey, hashKey } from './keys.js';
export type { Capacity, Reservation } from './enforce.js';
export type { GateHealth } from './gate.js';
