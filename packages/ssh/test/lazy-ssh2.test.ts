/**
 * ssh2 that cannot be imported (not installed, broken): every way in — a connection, a key
 * parse, the agent, the default keys, the IdentityFiles of a config — rejects with one
 * `ERR_SSH2_LOAD` line naming the module and the cause, nothing swallows it, and the next use
 * tries the import again. The transport module is mocked to throw until `state.broken` is off.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SshError, SshErrorCode } from '../src/errors.js';
import { importPrivateKey, loadAgentKeys, loadPrivateKeys } from '../src/keys.js';
import { configNodeOptions, resolveSshConfig } from '../src/ssh-config.js';
import { SshNode } from '../src/ssh-node.js';
import { loadSsh2Transport } from '../src/transport/lazy-ssh2.js';

const state = vi.hoisted(() => ({ broken: true, imports: 0 }));

vi.mock('../src/transport/ssh2.js', async (importOriginal) => {
  state.imports++;
  if (state.broken) {
    throw Object.assign(
      new Error("Cannot find package 'ssh2' imported from /app/dist/ssh2.js\nRequire stack:\n- /app/x.js"),
      { code: 'ERR_MODULE_NOT_FOUND' },
    );
  }
  return importOriginal();
});

/** One line naming the module, then the cause (here vitest's account of the failed mock, the thrown error its cause). */
const EXPECTED = /^Cannot load the ssh2 module \(the SSH implementation\): [^\n]+$/;

/** What `promise` rejects with, checked to be the one-line load failure. */
async function loadFailure(promise: Promise<unknown>): Promise<SshError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SshError);
  expect(error).toMatchObject({ code: SshErrorCode.SSH2_LOAD, message: expect.stringMatching(EXPECTED) });
  return error as SshError;
}

/** The codes along an error's chain of causes. */
function causeCodes(error: unknown): unknown[] {
  const codes: unknown[] = [];
  for (let cause = error; cause instanceof Error; cause = cause.cause)
    codes.push((cause as { code?: unknown }).code);
  return codes;
}

let dir: string;
let savedHome: string | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobgraph-lazy-ssh2-'));
  await mkdir(join(dir, '.ssh'));
  // a default key file, never parsed while ssh2 is missing (and not a key once it is back)
  await writeFile(join(dir, '.ssh', 'id_ed25519'), 'not a key\n');
  savedHome = process.env.HOME;
  process.env.HOME = dir;
});

afterAll(async () => {
  process.env.HOME = savedHome;
  await rm(dir, { recursive: true, force: true });
});

describe('ssh2 that cannot be loaded', () => {
  it('rejects with one ERR_SSH2_LOAD line naming the module and the cause', async () => {
    const error = await loadFailure(loadSsh2Transport());
    expect(causeCodes(error)).toContain('ERR_MODULE_NOT_FOUND');
  });

  it('is reported as such by a command, not as a connection failure', async () => {
    const node = closedPortNode();
    await loadFailure(node.run('true'));
  });

  it('is not swallowed by importPrivateKey, loadAgentKeys nor loadPrivateKeys', async () => {
    const key = join(dir, 'id_given');
    await writeFile(key, 'KEY TEXT\n');
    await loadFailure(importPrivateKey(key));
    await loadFailure(loadAgentKeys(join(dir, 'agent.sock')));
    await loadFailure(loadPrivateKeys());
    await loadFailure(loadPrivateKeys([key]));
  });

  it('is not counted as an unusable IdentityFile by configNodeOptions', async () => {
    const key = join(dir, 'id_config');
    await writeFile(key, 'KEY TEXT\n');
    const file = join(dir, 'config');
    await writeFile(file, `Host h\n  IdentityFile ${key}\n  IdentitiesOnly yes\n`);
    await loadFailure(configNodeOptions(await resolveSshConfig('h', { file }), undefined));
    await loadFailure(SshNode.fromSshConfig('h', { file }));
  });

  it('is tried again at the next use, and the default keys with it', async () => {
    const before = state.imports;
    await loadFailure(loadSsh2Transport());
    expect(state.imports).toBe(before + 1);
    state.broken = false;
    const transport = await loadSsh2Transport();
    expect(typeof transport.connect).toBe('function');
    expect(state.imports).toBe(before + 2);
    // the default keys were not kept as "none": read again, the file is now parsed (and skipped: not a key)
    expect(await loadPrivateKeys()).toEqual([]);
    await expect(loadAgentKeys(join(dir, 'no-agent.sock'))).resolves.toEqual([]);
    const node = closedPortNode();
    await expect(node.run('true')).rejects.toMatchObject({ code: SshErrorCode.CONNECT });
  });
});

/** A node on a closed port of loopback, with a key given in memory (no key file read). */
function closedPortNode(): SshNode {
  return new SshNode({
    hostname: '127.0.0.1',
    port: 1,
    keys: [{ source: 'a loaded key', key: {} }],
    agent: false,
    connectTimeout: 2_000,
  });
}
