#!/usr/bin/env node
// The `jobgraph` command. In a development checkout (the TypeScript sources and tsx are both there)
// it runs the sources through tsx with the @jobgraph/source condition, so that a stale dist/ never
// hides an edit; once installed (tsx is only a devDependency) it runs the built dist/cli/main.js.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const built = new URL('../dist/cli/main.js', import.meta.url);

/** tsx's loader, resolved from this file (so the command works from any directory), or undefined. */
function tsxLoader() {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined;
  }
}

const tsx = existsSync(source) ? tsxLoader() : undefined;

if (tsx === undefined) {
  if (!existsSync(fileURLToPath(built))) {
    process.stderr.write('jobgraph: dist/cli/main.js is missing: build @jobgraph/cli first (pnpm build)\n');
    process.exitCode = 1;
  } else {
    await import(built.href);
  }
} else {
  const child = spawn(
    process.execPath,
    ['--conditions=@jobgraph/source', '--import', tsx, source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // Ctrl-C reaches the child through the terminal's process group too; forwarding it covers a
  // signal sent to this process alone. The child decides when to exit.
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  // Ctrl-Z reaches both: the child cleans its live view, then stops the whole job, this process
  // with it (stopped at once, this process had the shell print "Stopped" before the child had
  // cleaned the screen). A child still starting stops at once: then this process stops the job.
  let fallback;
  process.on('SIGTSTP', () => {
    const at = Date.now();
    clearTimeout(fallback);
    fallback = setTimeout(() => {
      // late by seconds: this process was stopped with the job, and has just been continued
      if (Date.now() - at < 2_000) process.kill(0, 'SIGSTOP');
    }, 500);
    fallback.unref();
  });
  // continued (fg): the job was stopped, by the child or by the fallback
  process.on('SIGCONT', () => clearTimeout(fallback));
  child.on('error', (error) => {
    process.stderr.write(`jobgraph: cannot start the TypeScript sources: ${error.message}\n`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(name);
      process.kill(process.pid, signal);
      return;
    }
    process.exitCode = code ?? 1;
  });
}
