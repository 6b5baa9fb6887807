// BRAID_TRACE=FILE: phase marks of CNI calls (ms since the process started, Node's own
// performance clock), appended to FILE as one JSON line per call: at exit for a one-shot call,
// after each answer in the daemon (where concurrent requests' marks interleave). For finding
// where a call's time goes (`npm run bench` reads them); off, a mark is one boolean test.
import { appendFileSync } from 'node:fs';

const file = process.env.BRAID_TRACE;
const marks: Array<[string, number]> = [];
const MAX_MARKS = 256;

export function mark(label: string): void {
  if (file && marks.length < MAX_MARKS) marks.push([label, Math.round(performance.now() * 100) / 100]);
}

/** Writes the marks gathered since the last flush, as one call's line. */
export function flushTrace(command = process.env.CNI_COMMAND): void {
  if (!file || marks.length === 0) return;
  try {
    const m = process.memoryUsage();
    const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
    const memory = { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external) };
    appendFileSync(file, `${JSON.stringify({ pid: process.pid, command, marks, memory })}\n`, { mode: 0o600 });
  } catch {
    // tracing must never fail a CNI call
  }
  marks.length = 0;
}
