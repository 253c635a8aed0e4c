import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The response header by which every buildflow server identifies itself (its version), so the CLI
 * can tell a buildflow API from whatever else answers at a URL.
 */
export const IDENTITY_HEADER = 'x-buildflow-version';

/**
 * The installed package's root (where package.json, fixtures/ and dist/ live), found by walking up
 * from this file, so it is right from dist/src/cli as well as from src/cli.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'buildflow') {
      return (cached = dir);
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the buildflow package root');
    dir = parent;
  }
}

/** The package version: `--version`, the OpenAPI document and the identity header. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
