/** Public surface of the spend ledger. */
export { ledgerConfigSchema, type LedgerConfig } from './config.js';
export { Ledger, type LedgerDeps } from './ledger.js';
export { createLedgerStage, type LedgerStageDeps } from './stage.js';
export { baselineTarget } from './baseline.js';
export { usageRouter } from './routes.js';
export { spendOverview, type SpendOverview } from './overview.js';
export { AMOUNTS, DIMENSIONS, A, type LedgerEntry } from './entry.js';
export { buildReport, reportCsv, type UsageReport, type UsageQuery } from './report.js';
