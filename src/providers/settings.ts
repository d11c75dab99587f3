/**
 * One configured upstream provider, as the config schema produces it. Adapters are built from these (see ./adapters.ts).
 */
export interface ProviderSettings {
  name: string;
  kind: 'openai' | 'anthropic' | 'azure-openai';
  /** openai: `https://api.openai.com/v1`; anthropic: `https://api.anthropic.com/v1`; azure-openai: `https://<resource>.openai.azure.com`. */
  base_url: string;
  /** Header and idle-body timeout for one attempt, used when the request carries none. */
  timeout_ms: number;
  /** Extra static headers sent on every call (never overriding the authentication header). */
  headers?: Record<string, string>;
  /** azure-openai: the `api-version` query parameter (default '2024-10-21'). */
  api_version?: string;
  /** azure-openai: model name -> deployment name (default: the model name itself). */
  deployments?: Record<string, string>;
  /** anthropic: the `anthropic-version` header (default '2023-06-01'). */
  anthropic_version?: string;
  /**
   * openai / azure-openai: ask for usage on every stream (`stream_options.include_usage`) so budgets are settled on real
   * token counts; the usage chunk reaches the client only when it asked for it. Turn off for servers that reject the option.
   */
  stream_usage?: boolean;
  /** openai: the upstream speaks the Responses API; chat requests go to `{base_url}/responses` (chat only). */
  responses?: boolean;
  /** anthropic: max_tokens when the request sets neither max_tokens nor max_completion_tokens (default 4096). */
  default_max_tokens?: number;
}
