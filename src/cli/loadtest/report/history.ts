import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { CliError } from '../../cli-error.js';
import type { ChaosEvent } from '../deployment/chaos-events.js';
import type { RequestRecord } from '../generator/records.js';

/** First line of a history file: what ran, so it can be checked again or replayed with the same seed. */
export interface HistoryHeader {
  type: 'run';
  version: 1;
  runId: string;
  seed: number;
  model: string;
  urls: string[];
  startedAt: string;
  /** When set-up set the stock, ms since the epoch: orders created since are the run's. */
  stockSetAt: number;
  initialStock: Record<string, number>;
  /** The command line's options, for a replay. */
  options: Record<string, unknown>;
}

/** Last line: what happened around the requests. */
export interface HistoryTrailer {
  type: 'end';
  chaos: ChaosEvent[];
  window: { from: number; to: number };
  dropped: number;
  generatorBusy: number;
}

/** Writes a history file line by line while the run goes, so a crashed run still leaves its requests. */
export class HistoryWriter {
  private readonly out: WriteStream;

  constructor(readonly file: string, header: HistoryHeader) {
    this.out = createWriteStream(file, { encoding: 'utf8' });
    this.out.write(`${JSON.stringify(header)}\n`);
  }

  requests(records: readonly RequestRecord[]): void {
    if (records.length === 0) return;
    this.out.write(records.map((r) => JSON.stringify({ type: 'request', ...r })).join('\n') + '\n');
  }

  async end(trailer: HistoryTrailer): Promise<void> {
    this.out.write(`${JSON.stringify(trailer)}\n`);
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

export interface History {
  header: HistoryHeader;
  records: RequestRecord[];
  trailer?: HistoryTrailer;
}

/** Reads a history file written by {@link HistoryWriter}; a file that is not one is rejected with the line at fault. */
export function readHistory(file: string): History {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError('FILE_UNREADABLE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let header: HistoryHeader | undefined;
  let trailer: HistoryTrailer | undefined;
  const records: RequestRecord[] = [];
  lines.forEach((line, i) => {
    let row: { type?: unknown } & Record<string, unknown>;
    try {
      row = JSON.parse(line);
    } catch {
      throw new CliError('VALIDATION_FAILED', `${file}:${i + 1}: not JSON`);
    }
    if (i === 0) {
      if (row.type !== 'run' || row.version !== 1) throw new CliError('VALIDATION_FAILED', `${file}:1: not a buildflow loadtest history (no run header of version 1)`);
      header = row as unknown as HistoryHeader;
    } else if (row.type === 'request') {
      const { type: _type, ...record } = row;
      records.push(record as unknown as RequestRecord);
    } else if (row.type === 'end') {
      trailer = row as unknown as HistoryTrailer;
    } else {
      throw new CliError('VALIDATION_FAILED', `${file}:${i + 1}: unknown line type ${String(row.type)}`);
    }
  });
  if (!header) throw new CliError('VALIDATION_FAILED', `${file} is empty`);
  return { header, records, ...(trailer ? { trailer } : {}) };
}
