/**
 * The local login: what the CLI logs in as when no user is given, and the user of the LocalNode.
 */
import { userInfo } from 'node:os';

/** The local login, the default user of the CLI. */
export function localUsername(): string {
  try {
    return userInfo().username;
  } catch {
    // no passwd entry for our uid (a container run with an arbitrary uid)
    return process.env.USER ?? process.env.LOGNAME ?? 'root';
  }
}
