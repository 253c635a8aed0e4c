/**
 * Entry of the SQLite commit thread (db/sqlite/group-commit.ts starts it): the batch programs it
 * commits. Here, beside buildflow.ts, because it joins the engine (db/) to the writes (orders/).
 */
import type { BatchProgram } from './db/unit-of-work.js';
import { serveBatchPrograms } from './db/sqlite/commit-thread.js';
import { PLACE_ORDERS } from './orders/place-orders.js';

serveBatchPrograms([PLACE_ORDERS as BatchProgram<unknown, unknown>]);
