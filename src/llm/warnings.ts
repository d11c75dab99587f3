/**
 * A request's warnings (x-switchyard-warnings, the request log, the activity feed's explain trace): what a stage, an edge or
 * an adapter did not do as asked. Many are made from the request's own body — one per block, item or field an edge cannot
 * carry — so one request could make any number of them. A list keeps the first MAX_WARNINGS and says in one closing entry
 * that there were more: neither the reply's headers, nor the work of building them, nor what the gateway keeps of a request
 * after its reply grows with the body.
 */

/** Warnings a list keeps; later ones are left out, said in one more entry. */
export const MAX_WARNINGS = 32;

/** The closing entry of a list that left warnings out (itself copied from list to list, so it gives no count). */
export const MORE = '… more warnings were left out';

export class WarningList extends Array<string> {
  /** Lists made from this one (`map`, `filter`, …) are plain arrays. */
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  override push(...items: string[]): number {
    for (const w of items) {
      if (this.length < MAX_WARNINGS) super.push(w);
      else this[MAX_WARNINGS] = MORE;
    }
    return this.length;
  }
}

/** A new, bounded warning list. */
export const warningList = (): string[] => new WarningList();
