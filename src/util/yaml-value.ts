/**
 * The plain value of a parsed YAML document. `Document.toJS()` throws on an alias whose anchor is not set before it and on
 * an alias expansion past the library's limit (a resource-exhaustion guard); both are input errors, returned here with the
 * line of the alias at fault so every loader reports them as `file:line` like any other problem. A key `__proto__` is one
 * too: the document keeps it, but every object built from the value by assignment (a schema's record, a spread) drops it
 * without a word — a provider of that name vanished from a config that loaded cleanly.
 */
import { isAlias, isScalar, visit, type Document, type LineCounter } from 'yaml';

export type DocumentValue = { ok: true; value: unknown } | { ok: false; line: number; message: string };

export function documentValue(doc: Document, lines: LineCounter): DocumentValue {
  let proto: number | undefined;
  visit(doc, {
    Pair(_key, pair) {
      if (!isScalar(pair.key) || pair.key.value !== '__proto__') return undefined;
      proto = pair.key.range ? lines.linePos(pair.key.range[0]).line : 1;
      return visit.BREAK;
    },
  });
  if (proto !== undefined) return { ok: false, line: proto, message: '"__proto__" cannot be a name or a key here (it would be dropped as the file is read)' };
  try {
    return { ok: true, value: doc.toJS() };
  } catch (err) {
    let line: number | undefined;
    let unresolved: string | undefined;
    visit(doc, {
      Alias(_key, node) {
        const at = node.range ? lines.linePos(node.range[0]).line : 1;
        line ??= at;
        if (isAlias(node) && node.resolve(doc) === undefined) {
          line = at;
          unresolved = node.source;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    const message =
      unresolved !== undefined
        ? `alias *${unresolved} has no anchor &${unresolved} set before it`
        : `the document cannot be expanded: ${(err as Error).message ?? String(err)}`;
    return { ok: false, line: line ?? 1, message };
  }
}
