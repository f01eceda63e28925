/** Where the server keeps its database when --data is not given: a per-user data folder. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PLOTWIRE_DATA) return env.PLOTWIRE_DATA;
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'plotwire');
}
