// Error lines kept of a process (the last ones), to explain a failed check such as a 500.
const KEPT = 20;
const LONGEST = 2000;

/** A log line at error level or above: pino's JSON (`"level":50`) or its pretty form (`ERROR`, `FATAL`). */
export function isErrorLine(line: string): boolean {
  const level = /"level":(\d+)/.exec(line);
  if (level) return Number(level[1]) >= 50;
  return /\b(ERROR|FATAL)\b/.test(line);
}

/** The last error-level lines of a process's output, fed in chunks that may split a line. */
export class ErrorLines {
  private partial = '';
  private readonly kept: string[] = [];

  add(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop()!.slice(-LONGEST);
    for (const line of lines) {
      if (!isErrorLine(line)) continue;
      this.kept.push(line.slice(0, LONGEST));
      if (this.kept.length > KEPT) this.kept.shift();
    }
  }

  lines(): readonly string[] {
    return this.kept;
  }
}
