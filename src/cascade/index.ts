/** Public API of cascading, cost-aware routing. */
export { runCascade, type CascadeDeps, type CascadeFacts, type TierOutcome } from './runner.js';
export { cascadeRoute } from './route.js';
export { cascadePlan, type CascadePlan } from './plan.js';
export { estimateComplexity, bandOf, queryText, SIMPLE_BELOW, COMPLEX_FROM, type ComplexityFacts, type ComplexityBand } from './complexity.js';
export { cascadeConfigSchema, cascadeSchema, cascadeTierSchema, checksSchema, cascadeStreamingSchema, type CascadeConfig } from './config.js';
export type { CascadeTier, CascadeChecks, CascadeStreaming, JudgeCheck, Answer, Verdict, FailReason } from './types.js';
export { answerFromBody, answerFromParts, StreamAnswer } from './answer.js';
export * from './checks/index.js';
