// Every question `npm run setup` asks is also a flag: a flag given is an answer, and with --yes
// (or without a terminal) the default stands for every question left, so the whole setup runs
// unattended. Questions are asked with @clack/prompts when there is a terminal.
import { cancel, confirm, isCancel, password, text } from '@clack/prompts';
import { parseArgs } from 'node:util';

export interface Question {
  flag: string;
  /** What is asked; also the flag's line in --help. */
  ask: string;
  /** The default, from the answers so far (none: required). */
  fallback?: (answers: Answers) => string | undefined;
  secret?: boolean;
  /** Asked only when this holds for the answers so far. */
  when?: (answers: Answers) => boolean;
  check?: (value: string) => string | undefined;
  boolean?: boolean;
}

export type Answers = Record<string, string | undefined>;

/** The flags that steer the run rather than answer a question. */
export const RUN_FLAGS = {
  local: { type: 'boolean', description: 'everything on this machine: wrangler dev with local D1 and .dev.vars, the relay started here' },
  'dry-run': { type: 'boolean', description: 'print every command and file, run and write nothing' },
  yes: { type: 'boolean', short: 'y', description: 'ask nothing: defaults for every question no flag answered' },
  update: { type: 'boolean', description: 'apply new migrations, redeploy the Worker, rebuild and restart the relay; ask nothing new' },
  'new-admin-token': { type: 'boolean', description: 'make a new admin token (the old one stops working)' },
  stop: { type: 'boolean', description: 'with --local: stop the edge and the relay an earlier run started, and exit' },
  help: { type: 'boolean', short: 'h', description: 'this text' },
} as const;

export type RunFlags = { [K in keyof typeof RUN_FLAGS]: boolean };

export function parseSetupArgs(argv: string[], questions: Question[]): { flags: RunFlags; given: Answers } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(RUN_FLAGS)) options[name] = { type: spec.type, ...('short' in spec ? { short: spec.short } : {}) };
  for (const q of questions) options[q.flag] = { type: 'string' };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  const flags = Object.fromEntries(Object.keys(RUN_FLAGS).map((k) => [k, values[k] === true])) as RunFlags;
  const given: Answers = {};
  for (const q of questions) if (typeof values[q.flag] === 'string') given[q.flag] = values[q.flag] as string;
  return { flags, given };
}

export function usage(questions: Question[]): string {
  const lines = ['usage: npm run setup -- [flags]', '', 'Every question is also a flag; with --yes the defaults answer the rest.', ''];
  for (const [name, spec] of Object.entries(RUN_FLAGS)) lines.push(`  --${name.padEnd(24)} ${spec.description}`);
  lines.push('');
  for (const q of questions) lines.push(`  --${`${q.flag} <${q.boolean ? 'yes|no' : 'value'}>`.padEnd(24)} ${q.ask}`);
  return `${lines.join('\n')}\n`;
}

/** Answers every question: flags first, then the terminal, then defaults (or a refusal naming the flag). */
export async function answerQuestions(questions: Question[], given: Answers, interactive: boolean): Promise<Answers> {
  const answers: Answers = { ...given };
  for (const q of questions) {
    if (q.when && !q.when(answers)) continue;
    if (answers[q.flag] !== undefined) {
      const problem = q.check?.(answers[q.flag]!);
      if (problem) throw new Error(`--${q.flag}: ${problem}`);
      continue;
    }
    const fallback = q.fallback?.(answers);
    if (!interactive) {
      if (fallback === undefined) throw new Error(`--${q.flag} is needed (${q.ask})`);
      answers[q.flag] = fallback;
      continue;
    }
    let value: string | boolean | symbol;
    if (q.boolean) value = await confirm({ message: q.ask, initialValue: fallback !== 'no' });
    else if (q.secret) value = await password({ message: `${q.ask}${fallback !== undefined ? ' (empty: none)' : ''}`, validate: (v) => (v || fallback !== undefined ? q.check?.(v ?? '') : 'needed') });
    else value = await text({ message: q.ask, initialValue: fallback, validate: (v) => (v || fallback !== undefined ? (v ? q.check?.(v) : undefined) : 'needed') });
    if (isCancel(value)) {
      cancel('Setup stopped; nothing after the last step was done. Run it again to go on.');
      process.exit(130);
    }
    answers[q.flag] = typeof value === 'boolean' ? (value ? 'yes' : 'no') : (value as string) || fallback;
  }
  return answers;
}
