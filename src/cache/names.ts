/**
 * One shared instance of each distinct name (tenant, model, intent) that many cache entries repeat: each request or parsed
 * reply brings its own copy of a string the others share, and 100k entries would otherwise keep 100k copies of a few names.
 * Bounded; names beyond the bound are kept as they come.
 */
export class Names {
  private readonly known = new Map<string, string>();

  constructor(private readonly max: number) {}

  /** The shared instance of `s` (`s` itself the first time, or past the bound). */
  of(s: string): string {
    const known = this.known.get(s);
    if (known !== undefined) return known;
    if (this.known.size < this.max) this.known.set(s, s);
    return s;
  }

  clear(): void {
    this.known.clear();
  }
}
