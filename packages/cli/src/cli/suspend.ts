/**
 * Ctrl-Z while the command draws on the terminal: what it drew is taken back and the cursor shown
 * before the job stops, and drawn again when it goes on (`fg`). Stopped by the terminal's own
 * SIGTSTP, the live view left a hidden cursor at the shell's prompt and a stale frame above it.
 *
 * The whole job is stopped (`kill(0, SIGSTOP)`: the process group the terminal signalled, the
 * launcher of a development checkout included, which waits for this): after the hooks, so that
 * the shell prints "Stopped" below a screen already cleaned.
 */

/** What a view does when the job stops and goes on. */
export interface SuspendHooks {
  suspend(): void;
  resume(): void;
}

const hooks = new Set<SuspendHooks>();
let installed = false;

function suspendAll(): void {
  for (const hook of hooks) {
    try {
      hook.suspend();
    } catch {
      // a view that fails to clean up must not keep the job from stopping
    }
  }
  process.kill(0, 'SIGSTOP');
}

function resumeAll(): void {
  for (const hook of hooks) {
    try {
      hook.resume();
    } catch {
      // as above
    }
  }
}

/** Handles SIGTSTP and SIGCONT for the process: once, at the start of the command. */
export function handleSuspend(): void {
  if (installed) return;
  installed = true;
  process.on('SIGTSTP', suspendAll);
  process.on('SIGCONT', resumeAll);
}

/** Adds `hook` for the next stops and continues. @returns its removal */
export function onSuspend(hook: SuspendHooks): () => void {
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}
