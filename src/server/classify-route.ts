/**
 * POST /v1/classify {input} → {intent, score, margin, top}: the intent classifier as an endpoint, authenticated like the
 * other /v1 routes.
 */
import express, { type Router } from 'express';
import { GatewayError, invalidRequest } from '../errors.js';
import type { Caller } from '../pipeline/context.js';
import type { SemanticService } from '../semantic/service.js';

export function classifyRouter(deps: {
  authenticate(authorization: string | undefined): Promise<Caller>;
  semantic: () => SemanticService | undefined;
  maxInputChars: () => number;
}): Router {
  const router = express.Router();
  router.post('/v1/classify', async (req, res) => {
    const caller = await deps.authenticate(req.headers.authorization);
    const semantic = deps.semantic();
    if (!semantic) {
      throw new GatewayError({ status: 503, message: 'Semantic features are disabled (semantic.enabled: false).', type: 'service_unavailable', code: 'semantic_disabled', failure: 'gateway' });
    }
    const input = (req.body as { input?: unknown } | undefined)?.input;
    if (input === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
    if (typeof input !== 'string' || input.trim() === '') throw invalidRequest("Invalid 'input': expected a non-empty string.", 'input', 'invalid_type');
    // Unbounded (the answer is the classification), queued in the caller's own rounds of the embedder's fair line.
    const c = semantic.classify(await semantic.embed(input.slice(0, deps.maxInputChars()), undefined, undefined, caller.virtualKeyId));
    res.json({ intent: c.intent, score: c.score, margin: c.margin, top: c.top, metadata: c.metadata });
  });
  return router;
}
