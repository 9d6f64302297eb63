/**
 * Jinja2 compatibility (issue 15): every template of the corpus renders as Jinja2 renders it —
 * checked against the outputs written from Jinja2's documentation, and against Jinja2 itself
 * (Debian's python3-jinja2, installed with apt-get when missing, as the other tests install
 * their tools): the corpus's expectations must be what Jinja2 really gives.
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../src/index.js';
import { CORPUS } from './jinja-corpus.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const renderer = fileURLToPath(new URL('./fixtures/jinja2-render.py', import.meta.url));

const hasJinja2 = () => {
  try {
    execFileSync(PYTHON, ['-c', 'import jinja2'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Why Jinja2 cannot be run here, or undefined once it can (installed if need be). */
let noJinja2: string | undefined;
beforeAll(async () => {
  if (hasJinja2()) return;
  if (process.getuid?.() !== 0) {
    noJinja2 = 'python3-jinja2 is not installed and this is not root (apt-get install python3-jinja2)';
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write('jinja-corpus: installing python3-jinja2 with apt-get\n');
  try {
    await run('apt-get', ['update'], { env, timeout: 300_000 });
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'python3', 'python3-jinja2'], {
      env,
      timeout: 300_000,
    });
  } catch (error) {
    noJinja2 = `apt-get could not install python3-jinja2: ${(error as Error).message.split('\n')[0]}`;
    return;
  }
  if (!hasJinja2()) noJinja2 = 'python3-jinja2 installed, but /usr/bin/python3 cannot import jinja2';
}, 900_000);

describe('the Jinja2 corpus, rendered by jobgraph', () => {
  it.each(CORPUS.map((item) => [item.name, item] as const))('%s', (_name, item) => {
    expect(renderTemplate(item.template, item.context, 'strict')).toBe(item.expected);
    expect(renderTemplate(item.template, item.context, 'lenient')).toBe(item.expected);
  });
});

describe('the Jinja2 corpus, rendered by Jinja2 itself', () => {
  it('gives the outputs the corpus expects', async (context) => {
    if (noJinja2 !== undefined) {
      process.stderr.write(`jinja-corpus: skipped the comparison with Jinja2: ${noJinja2}\n`);
      context.skip();
    }
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      const child = execFile(PYTHON, ['-W', 'ignore', renderer], { timeout: 60_000 }, (error, out) =>
        error ? reject(error) : resolve({ stdout: out }),
      );
      child.stdin?.end(
        JSON.stringify(CORPUS.map(({ template, context: values }) => ({ template, context: values }))),
      );
    });
    const results = JSON.parse(stdout) as { output?: string; error?: string }[];
    expect(
      results.map((result, index) => [CORPUS[index]?.name, result.output ?? `error: ${result.error}`]),
    ).toEqual(CORPUS.map((item) => [item.name, item.expected]));
  });
});
