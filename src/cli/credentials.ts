import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readSetting } from '../core/settings.js';
import { CREDENTIAL_RULE } from './command-index.js';

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
  const own = readSetting('BUILDFLOW_CONFIG_DIR', env);
  if (own) return own;
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

/** Where a credential came from, in the words the user set it with. */
export type CredentialSource = '--token' | 'BUILDFLOW_TOKEN' | 'BUILDFLOW_ADMIN_KEY' | 'saved login';

export interface Credential {
  value: string;
  source: CredentialSource;
  /** Who the credential is, as far as the CLI knows it: "the admin", "ada@example.com (saved login)". */
  identity: string;
  /** The credential is the admin key the environment holds. */
  admin: boolean;
  /** The other credentials that were available and lost to this one. */
  unused: string[];
}

export { CREDENTIAL_RULE };

/** The credential for a request to `baseUrl` by {@link CREDENTIAL_RULE}, and the others it beat. */
export function bearerFor(baseUrl: string, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Credential | undefined {
  const saved = loadLogin();
  const adminKey = readSetting('BUILDFLOW_ADMIN_KEY', env);
  const describe = (value: string, source: CredentialSource): string => {
    if (value === adminKey) return `the admin (${source})`;
    if (source === 'saved login') return `${saved?.email ?? 'the saved login'} (saved login)`;
    return `the token in ${source}`;
  };
  const available: { value: string; source: CredentialSource }[] = [];
  if (flag) available.push({ value: flag, source: '--token' });
  const token = readSetting('BUILDFLOW_TOKEN', env);
  if (token) available.push({ value: token, source: 'BUILDFLOW_TOKEN' });
  if (adminKey) available.push({ value: adminKey, source: 'BUILDFLOW_ADMIN_KEY' });
  if (saved && saved.url.replace(/\/+$/, '') === baseUrl) available.push({ value: saved.token, source: 'saved login' });
  const [chosen, ...rest] = available;
  if (!chosen) return undefined;
  return {
    value: chosen.value,
    source: chosen.source,
    identity: describe(chosen.value, chosen.source),
    admin: chosen.value === adminKey,
    unused: rest.filter((r) => r.value !== chosen.value).map((r) => describe(r.value, r.source)),
  };
}
