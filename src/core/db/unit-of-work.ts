import { setTimeout as sleep } from 'node:timers/promises';
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { OrderStatus } from '../domain/order-status.js';
import type { Database } from './schema.js';
import { insertRows } from './sets.js';

export type { Db } from './schema.js';

/** Append-only tables whose rows a unit of work collects and writes together before it commits. */
export type CollectedTable =
  | 'orders'
  | 'order_items'
  | 'idempotency_keys'
  | 'order_history'
  | 'stock_movements'
  | 'outbox'
  | 'shipments'
  | 'notifications';

// Written in this order (new orders before the rows that name them; an outbox row may name a
// shipment's order, never the reverse); rows that would repeat a unique key are skipped where the
// table says so: one notification per order and kind.
const TABLES: readonly { table: CollectedTable; ignoreConflicts: boolean }[] = [
  { table: 'orders', ignoreConflicts: false },
  { table: 'order_items', ignoreConflicts: false },
  { table: 'idempotency_keys', ignoreConflicts: false },
  { table: 'order_history', ignoreConflicts: false },
  { table: 'stock_movements', ignoreConflicts: false },
  { table: 'shipments', ignoreConflicts: false },
  { table: 'notifications', ignoreConflicts: true },
  { table: 'outbox', ignoreConflicts: false },
];

/** One order status change a unit of work made. */
export interface TransitionRecord {
  orderId: string;
  from: OrderStatus | null;
  to: OrderStatus;
  reason: string | null;
}

/** How one message's run through its step ended: its effect committed, a retry was scheduled, or it was dead-lettered. */
export type StepOutcomeKind = 'done' | 'retry' | 'dead';

/** One pipeline message's attempt at its step, reported by the unit that committed its outcome. */
export interface StepOutcome {
  messageId: number;
  topic: string;
  orderId: string;
  /** The attempt this was (1 for the first delivery). */
  attempt: number;
  outcome: StepOutcomeKind;
  /** From the start of the batch that ran it to its unit's commit. */
  seconds: number;
  /** Why it failed (retry, dead). */
  error?: string;
}

/** A step outcome as a unit notes it; its duration is measured when the unit commits. */
export type StepOutcomeNote = Omit<StepOutcome, 'seconds'> & { /** performance.now() when its batch started. */ startedAt: number };

/** Rows outside the order pipeline that write use cases change, named for audit and metric hooks. */
export type RecordKind = 'customer' | 'auth_token' | 'webhook_endpoint' | 'webhook_delivery';

/** One such row a unit created, changed or removed. */
export interface RecordChange {
  kind: RecordKind;
  /** The row's id; for an auth token, the customer it belongs to (the token itself is a secret). */
  id: string;
  action: 'created' | 'updated' | 'deleted';
}

/**
 * What a committed unit of work did: the one thing every after-commit listener reads (wake-ups,
 * the product cache, metrics, logs, deliveries). Plain data, so a unit committed elsewhere (on
 * another thread) can be reported the same way.
 */
export interface CommittedWork {
  now: number;
  /** Products whose stock or price changed: cached reads to drop. */
  stockChanged: readonly string[];
  /** Outbox messages written (or made due): in-process workers and relays to wake. */
  enqueued: number;
  /** Webhook deliveries and emails written (or made due): delivery pumps to wake. */
  deliveries: number;
  transitions: readonly TransitionRecord[];
  /** New orders committed (their transition from nothing to pending); replays of an idempotency key are not new. */
  placed: number;
  /** The pipeline messages the unit ran, when a worker ran it (which message settled which order). */
  messages: readonly UnitMessage[];
  /** The step outcomes this unit committed (done, retry, dead). */
  outcomes: readonly StepOutcome[];
  /** Rows outside the order pipeline the unit changed (customers, tokens, webhook endpoints). */
  changes: readonly RecordChange[];
}

/** A pipeline message a unit of work ran. */
export interface UnitMessage {
  messageId: number;
  topic: string;
  orderId: string;
  /** Its delivery attempt (1 for the first). */
  attempt: number;
}

/**
 * The one after-commit channel: called once per committed unit of work, after the commit (and
 * after the WAL sync when the unit asked for durability), never after a rollback. Wake-ups, cache
 * invalidation, metrics, order logs and audit rows are all hooks; nothing else reports commits.
 */
export type AfterCommitHook = (work: CommittedWork) => void | Promise<void>;

/**
 * A write that many requests share one unit of work for (group commit): `run` decides and collects
 * every request's rows in the unit and answers each request with plain data (no Error objects, no
 * after-commit effects), so a commit engine may run it on another thread and send the answers back.
 * A thread finds the program by `name` (see db/sqlite/commit-thread.ts).
 */
export interface BatchProgram<Req, Out> {
  name: string;
  run(uow: UnitOfWork, requests: readonly Req[]): Promise<Out[]>;
  /** The answer to a request whose unit failed as a whole, run alone (a database error, a thrown refusal). */
  failed(err: unknown): Out;
}

/**
 * The transaction of one use case or one pipeline batch, and everything it will write and set off.
 * Steps add rows (history, ledger, outbox, shipments, notifications) as they decide them; the unit
 * writes each table's rows in one set-based statement just before commit,
 * then runs its after-commit effects in one place. Rows nobody reads back within the transaction
 * are the only ones collected; everything else goes straight through {@link trx}.
 */
export class UnitOfWork {
  private readonly rows = new Map<CollectedTable, Insertable<Database[CollectedTable]>[]>();
  private readonly skus = new Set<string>();
  private readonly effects: (() => void | Promise<void>)[] = [];
  private enqueuedCount = 0;
  private placedCount = 0;
  private deliveryCount = 0;
  private readonly ran: UnitMessage[] = [];
  private readonly outcomeNotes: StepOutcomeNote[] = [];
  private readonly changes: RecordChange[] = [];
  readonly transitions: TransitionRecord[] = [];

  constructor(
    /** The transaction every statement of this unit runs in. */
    readonly trx: Transaction<Database>,
    /** The unit's clock: every row it writes carries this time. */
    readonly now: number,
    /** The deployment sends customer emails (SMTP is configured): a notification also writes its email. */
    readonly sendsEmail = false,
  ) {}

  /** Collects rows for `table`, written at {@link flush}. */
  add<T extends CollectedTable>(table: T, rows: readonly Insertable<Database[T]>[]): void {
    if (rows.length === 0) return;
    if (table === 'outbox') this.enqueuedCount += rows.length;
    let list = this.rows.get(table);
    if (!list) this.rows.set(table, (list = []));
    list.push(...(rows as Insertable<Database[CollectedTable]>[]));
  }

  /** Notes a status change (its history row is collected by the caller through {@link add}). */
  noteTransition(t: TransitionRecord): void {
    this.transitions.push(t);
    if (t.from === null) this.placedCount++;
  }

  /** Notes webhook deliveries or emails this unit wrote or made due: delivery pumps are woken after commit. */
  noteDeliveries(count: number): void {
    this.deliveryCount += count;
  }

  /** Notes a pipeline message's outcome at its step; reported only if this unit commits. */
  noteOutcome(note: StepOutcomeNote): void {
    this.outcomeNotes.push(note);
  }

  /** Notes a row outside the order pipeline that this unit created, changed or removed. */
  noteChange(change: RecordChange): void {
    this.changes.push(change);
  }

  /** Notes that this unit made queued work due (without writing it): in-process workers are woken after commit. */
  noteWorkDue(): void {
    this.enqueuedCount++;
  }

  /** Notes the pipeline messages this unit runs (reported with its transitions after commit). */
  runs(messages: Iterable<UnitMessage>): void {
    for (const m of messages) this.ran.push(m);
  }

  /** Notes products whose stock or price this unit changed. */
  stockChanged(skus: Iterable<string>): void {
    for (const sku of skus) this.skus.add(sku);
  }

  /** Runs `effect` once this unit has committed; never if it rolls back. */
  afterCommit(effect: () => void | Promise<void>): void {
    this.effects.push(effect);
  }

  /** Writes the collected rows, one statement per table however many rows. Runs before commit. */
  async flush(): Promise<void> {
    for (const { table, ignoreConflicts } of TABLES) {
      const rows = this.rows.get(table);
      if (!rows || rows.length === 0) continue;
      this.rows.delete(table);
      await insertRows(this.trx, table, rows as Record<string, unknown>[], { ignoreConflicts });
    }
  }

  /** What the unit did, once committed. */
  committed(): CommittedWork {
    const at = performance.now();
    const outcomes = this.outcomeNotes.map(({ startedAt, ...o }) => ({ ...o, seconds: (at - startedAt) / 1000 }));
    return {
      now: this.now,
      stockChanged: [...this.skus],
      enqueued: this.enqueuedCount,
      deliveries: this.deliveryCount,
      transitions: this.transitions,
      placed: this.placedCount,
      messages: this.ran,
      outcomes,
      changes: this.changes,
    };
  }

  /** The effects registered with {@link afterCommit}. */
  pendingEffects(): readonly (() => void | Promise<void>)[] {
    return this.effects;
  }
}

/** Runs of a unit that Postgres aborted for a deadlock or a serialization failure, first included. */
const TRANSIENT_TRIES = 3;

/** SQLSTATE 40P01 (deadlock detected) or 40001 (serialization failure): nothing was written. */
function isTransientConflict(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === '40P01' || code === '40001';
}

export interface UnitOptions {
  /** Resolve only once the commit survives power loss (the deployment's WAL sync): for writes a client waits on. */
  durable?: boolean;
  now?: number;
}

/**
 * Runs units of work against one database with the deployment's after-commit hooks. Every write
 * use case (HTTP, CLI ops, workers, sweeper) is a core function taking the runner as its first
 * argument and going through {@link run}, so no path can forget an effect or its durability.
 * Order intake runs its batches as units too, through its commit engine; the SQLite commit thread's
 * are reported through {@link announce}. A unit that Postgres picks as a deadlock's victim runs again.
 */
export class UnitRunner {
  private readonly hooks: AfterCommitHook[] = [];

  constructor(
    readonly db: Kysely<Database>,
    private readonly sync: () => Promise<void> = async () => {},
    /** Where an after-commit hook's failure goes (the work itself has committed). */
    private readonly onHookError: (err: unknown) => void = () => {},
    /** The deployment sends customer emails: every unit's notifications write theirs. */
    readonly sendsEmail = false,
  ) {}

  /** Adds an after-commit hook; returns its removal. */
  onCommit(hook: AfterCommitHook): () => void {
    this.hooks.push(hook);
    return () => {
      const i = this.hooks.indexOf(hook);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  /**
   * `work` in one transaction; its collected rows are written before commit; after commit (and
   * sync, if durable) the unit's own effects, then the hooks. A failure rolls everything back and
   * runs no effect. `work` may run more than once (a deadlock's victim runs again on a fresh unit),
   * so it returns what it found rather than changing state outside the unit.
   */
  async run<T>(work: (uow: UnitOfWork) => Promise<T>, options: UnitOptions = {}): Promise<T> {
    let unit: UnitOfWork | undefined;
    const attempt = () =>
      this.db.transaction().execute(async (trx) => {
        unit = new UnitOfWork(trx, options.now ?? Date.now(), this.sendsEmail);
        const value = await work(unit);
        await unit.flush();
        return value;
      });
    let result: T;
    for (let tries = 1; ; tries++) {
      try {
        result = await attempt();
        break;
      } catch (err) {
        // Postgres chose this transaction as a deadlock's victim (or could not serialize it): it
        // rolled back whole, so it runs again on a fresh unit, as Postgres advises.
        if (tries >= TRANSIENT_TRIES || !isTransientConflict(err)) throw err;
        await sleep(5 + Math.random() * 20 * tries);
      }
    }
    if (options.durable) await this.sync();
    for (const effect of unit!.pendingEffects()) await this.guard(effect);
    await this.announce(unit!.committed());
    return result;
  }

  /**
   * Commits `requests` durably in one unit of `program`; if that unit fails as a whole, commits
   * each request alone so only the culprit fails. Answers in the order of `requests`.
   */
  async runBatch<Req, Out>(program: BatchProgram<Req, Out>, requests: readonly Req[]): Promise<Out[]> {
    try {
      return await this.run((uow) => program.run(uow, requests), { durable: true });
    } catch (err) {
      if (requests.length === 1) return [program.failed(err)];
      const answers: Out[] = [];
      for (const r of requests) answers.push(...(await this.runBatch(program, [r])));
      return answers;
    }
  }

  /**
   * Runs the after-commit hooks for `work`: for work a unit committed elsewhere (the SQLite
   * commit thread) as for the units {@link run} commits here.
   */
  async announce(work: CommittedWork): Promise<void> {
    for (const hook of this.hooks) await this.guard(() => hook(work));
  }

  private async guard(effect: () => void | Promise<void>): Promise<void> {
    try {
      await effect();
    } catch (err) {
      this.onHookError(err);
    }
  }
}
