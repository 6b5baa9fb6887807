// The demo's output: numbered sections, aligned tables, indented blocks; colour only on a terminal.
export interface ReportOptions {
  color: boolean;
  write: (text: string) => void;
}

const CODES = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;
type Style = keyof typeof CODES;

export class Report {
  private section = 0;

  constructor(private readonly o: ReportOptions) {}

  style(s: Style, text: string): string {
    return this.o.color ? `\x1b[${CODES[s]}m${text}\x1b[0m` : text;
  }

  title(text: string): void {
    this.section += 1;
    this.o.write(`\n${this.style('bold', `${this.section}. ${text}`)}\n`);
  }

  heading(text: string): void {
    this.o.write(`\n  ${this.style('cyan', text)}\n`);
  }

  line(text = ''): void {
    this.o.write(text ? `  ${text}\n` : '\n');
  }

  ok(text: string): void {
    this.line(`${this.style('green', '✓')} ${text}`);
  }

  bad(text: string): void {
    this.line(`${this.style('red', '✗')} ${text}`);
  }

  note(text: string): void {
    this.line(this.style('dim', text));
  }

  /** Key/value lines with the keys padded to one width. */
  pairs(rows: Array<[string, string]>): void {
    const w = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) this.line(`${this.style('dim', k.padEnd(w))}  ${v}`);
  }

  table(header: string[], rows: string[][]): void {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    this.line(this.style('dim', fmt(header)));
    for (const r of rows) this.line(fmt(r));
  }

  /** A block (file content, JSON), indented under the section. */
  block(text: string, indent = 4): void {
    const pad = ' '.repeat(indent);
    this.o.write(`${text.replace(/\n$/, '').split('\n').map((l) => pad + l).join('\n')}\n`);
  }
}

/** JSON indented by two, arrays of plain values kept on one line ("ips": ["198.19.11.20"]). */
export const prettyJson = (value: unknown): string =>
  JSON.stringify(value, null, 2).replace(/\[\n\s+([^[\]{}\n]+(?:,\n\s+[^[\]{}\n]+)*)\n\s+\]/g, (_m, inner: string) => `[${inner.split(/,\n\s+/).join(', ')}]`);

export const colorWanted = (isTty: boolean | undefined, env: NodeJS.ProcessEnv, noColorFlag: boolean) =>
  Boolean(isTty) && !noColorFlag && !env.NO_COLOR && env.TERM !== 'dumb';
