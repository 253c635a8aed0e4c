import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError } from '../../cli-error.js';

/**
 * Refuses, before any load is sent, an output file that could not be written: a run that finds
 * out only at its end has spent its time and hides its result behind the error (exit 2).
 */
export function checkOutputPaths(files: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [flag, file] of Object.entries(files)) {
    if (file === undefined) continue;
    const path = resolve(file);
    const dir = dirname(path);
    let why: string | undefined;
    try {
      if (!statSync(dir).isDirectory()) why = `${dir} is not a directory`;
      else accessSync(dir, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      why = code === 'ENOENT' ? `directory ${dir} does not exist` : code === 'EACCES' ? `directory ${dir} is not writable` : (why ?? `cannot write in ${dir}: ${code ?? (err as Error).message}`);
    }
    if (!why) {
      try {
        const st = statSync(path);
        if (st.isDirectory()) why = `${path} is a directory`;
        else accessSync(path, constants.W_OK);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') why = `${path} is not writable (${code ?? (err as Error).message})`;
      }
    }
    if (why) throw new CliError('USAGE', `--${flag} ${file}: ${why}`);
    out[flag] = path;
  }
  return out;
}
