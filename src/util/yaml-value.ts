/**
 * The plain value of a parsed YAML document. `Document.toJS()` throws on an alias whose anchor is not set before it and on
 * an alias expansion past the library's limit (a resource-exhaustion guard); both are input errors, returned here with the
 * line of the alias at fault so every loader reports them as `file:line` like any other problem.
 */
import { isAlias, visit, type Document, type LineCounter } from 'yaml';

export type DocumentValue = { ok: true; value: unknown } | { ok: false; line: number; message: string };

export function documentValue(doc: Document, lines: LineCounter): DocumentValue {
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
