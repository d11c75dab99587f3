/**
 * Caller-shaped values as the CEL library can read them. The library tells a map from an object of another type by the
 * object's `constructor` property, so a JSON object that carries a member named `constructor` (a body field, a nested
 * parameter, a header) would make every rule that reads the variable fail for that request: the rules would not match,
 * and a caller could step around a rule by adding one field. The same goes for names an operator or a product team
 * chooses (a provider, key, model or category named `constructor`, a metadata member): every rule reading `health`,
 * `intents` or `intent_metadata` would fail for every request. Such objects become Maps, which the library reads as maps
 * by their type; everything else is handed over as it is, without a copy. Pure.
 */

/** Body fields that carry prompt content or have their own variable; never exposed through `params`. */
const NOT_PARAMS = new Set(['messages', 'prompt', 'input', 'model', 'user', 'suffix']);

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * `v` with every object that has an own `constructor` member turned into a Map (at any depth); `v` itself when it has
 * none, and only the changed branches copied otherwise. The walk is bounded by the body, whose members the edge counts.
 */
export function celSafe(v: unknown): unknown {
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = celSafe(v[i]);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if (!isPlainObject(v)) return v;
  const keys = Object.keys(v);
  let values: unknown[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const x = celSafe(v[keys[i]]);
    if (x !== v[keys[i]]) (values ??= keys.map((k) => v[k]))[i] = x;
  }
  const constructorMember = Object.hasOwn(v, 'constructor');
  if (values === undefined && !constructorMember) return v;
  // Entries, not assignments: a member named `__proto__` stays a member.
  const entries = keys.map((k, i): [string, unknown] => [k, values === undefined ? v[k] : values[i]]);
  return constructorMember ? new Map<string, unknown>(entries) : Object.fromEntries(entries);
}

/**
 * The request's `params`: the body's other fields, lists as their length. A Map, so no field name (`constructor`,
 * `__proto__`) can change what the map is.
 */
export function bodyParams(body: Readonly<Record<string, unknown>>): Map<string, unknown> {
  const out: Array<[string, unknown]> = [];
  for (const key of Object.keys(body)) {
    if (NOT_PARAMS.has(key)) continue;
    const v = body[key];
    if (v === undefined) continue;
    out.push([key, Array.isArray(v) ? BigInt(v.length) : celSafe(v)]);
  }
  return new Map<string, unknown>(out);
}

/**
 * A map whose keys are names from outside (a caller's headers; provider, key, model and category names from the config
 * and the reference prompts): the record as it is, a Map when one of its keys is `constructor`.
 */
export function celMap<T>(record: Readonly<Record<string, T>>): Readonly<Record<string, T>> | Map<string, T> {
  return Object.hasOwn(record, 'constructor') ? new Map<string, T>(Object.entries(record)) : record;
}
