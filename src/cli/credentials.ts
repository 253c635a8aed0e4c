import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What `buildflow login` keeps: the token, for the server it came from only. */
export interface SavedLogin {
  url: string;
  email: string;
  token: string;
  expiresAt: string;
}

/**
 * `$BUILDFLOW_CONFIG_DIR`, else `$XDG_CONFIG_HOME/buildflow`, else `~/.config/buildflow`
 * (`%APPDATA%\buildflow` on Windows).
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BUILDFLOW_CONFIG_DIR) return env.BUILDFLOW_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'buildflow');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'buildflow');
  return join(homedir(), '.config', 'buildflow');
}

export function credentialsFile(): string {
  return join(configDir(), 'credentials.json');
}

/** Writes the login readable only by its owner (file 0600 in a 0700 directory). */
export function saveLogin(login: SavedLogin): string {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = credentialsFile();
  // Remove first: a mode given to writeFileSync applies only when the file is created.
  rmSync(file, { force: true });
  writeFileSync(file, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return file;
}

export function loadLogin(): SavedLogin | undefined {
  try {
    const data = JSON.parse(readFileSync(credentialsFile(), 'utf8')) as Partial<SavedLogin>;
    if (typeof data.token === 'string' && typeof data.url === 'string') return data as SavedLogin;
  } catch {
    // no saved login, or an unreadable one: act as signed out
  }
  return undefined;
}

export function removeLogin(): void {
  rmSync(credentialsFile(), { force: true });
}

/**
 * The bearer credential for a request to `baseUrl`, by the usual precedence (a flag beats the
 * environment beats a saved file): `--token`, else `BUILDFLOW_TOKEN`, else `BUILDFLOW_ADMIN_KEY`,
 * else the saved login when it was made against the same URL.
 */
export function bearerFor(baseUrl: string, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return flag;
  if (env.BUILDFLOW_TOKEN) return env.BUILDFLOW_TOKEN;
  if (env.BUILDFLOW_ADMIN_KEY) return env.BUILDFLOW_ADMIN_KEY;
  const saved = loadLogin();
  if (saved && saved.url.replace(/\/+$/, '') === baseUrl) return saved.token;
  return undefined;
}
