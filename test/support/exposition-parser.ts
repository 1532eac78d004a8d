// Prometheus' own parsers of the exposition formats (Debian's python3-prometheus-client, installed
// by scripts/ensure-system-packages.sh), for tests that must not trust a parser of our own.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'exposition-parse.py');
/** Debian's Python, where apt installs the client: a python3 earlier on PATH (pyenv) may not have it. */
const PYTHON = '/usr/bin/python3';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number | 'NaN' | '+Inf' | '-Inf';
}

export interface ParsedFamily {
  name: string;
  type: string;
  unit: string;
  help: string;
  samples: ParsedSample[];
}

/** The families as the real parser reads them; rejects with the parser's own message when it refuses the text. */
export function parseExposition(text: string, format: 'openmetrics' | 'prometheus'): Promise<ParsedFamily[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [SCRIPT, format], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the ${format} parser refused the text: ${stderr.trim() || error.message}`));
      else resolve(JSON.parse(stdout) as ParsedFamily[]);
    });
    child.stdin!.end(Buffer.from(text, 'utf8'));
  });
}

/** The value of the one sample with this name and these labels (exactly), or undefined. */
export function sampleValue(families: readonly ParsedFamily[], name: string, labels: Record<string, string>): ParsedSample['value'] | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const f of families) {
    for (const s of f.samples) if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return s.value;
  }
  return undefined;
}
