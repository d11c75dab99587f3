/** Public API of the routing-rules area. */
export { rulesConfigSchema, ruleSchema, parseRules, parseRule, type RuleSpec, type RuleInput, type RulesConfig, type RuleProblem, type RuleScope } from './config.js';
export {
  VARIABLES,
  buildVariables,
  renderVariablesTable,
  type VariableInputs,
  type VariableDeclaration,
  type HealthSnapshot,
  type ProviderHealth,
  type CapacityFacts,
  type SemanticFacts,
} from './variables.js';
export { compile, formatProblems, EMPTY_RULE_SET, type RuleSet, type CompiledRule, type CompileOptions, type CompileResult, type ProviderCatalog } from './compile.js';
export {
  evaluate,
  evaluateCheapPrefix,
  explain,
  toRouteDecision,
  seededRandom,
  MAX_CHAIN_STEPS,
  type RuleDecision,
  type TraceStep,
  type ChainStep,
  type Explanation,
  type EvaluateOptions,
  type Rng,
} from './engine.js';
export { routeRequest, referencesFor, hasApplicableRules, type RoutedRequest } from './route.js';
export { RuleErrorReporter, type RuleErrorReporterOptions } from './error-reporter.js';
export { RuleManager, RuleSetError, type EffectiveRule, type RuleSource, type RuleManagerOptions } from './manager.js';
export { MemoryRuleStore, type RuleStore, type OverlayEntry } from './store.js';
export { RedisRuleStore } from './store-redis.js';
export { rulesAdminRouter } from './admin-routes.js';
