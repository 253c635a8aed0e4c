import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-customers-and-shipments.js';
import * as m0003 from './0003-outbox-publishing.js';
import * as m0004 from './0004-order-reference-numbers.js';
import * as m0005 from './0005-drop-orders-created-index.js';
import * as m0006 from './0006-stats-counters-and-workers.js';
import * as m0007 from './0007-webhooks-and-email.js';
import * as m0010 from './0010-outbox-unpublished-index.js';
import * as m0011 from './0011-stats-funnel-counters.js';
import * as m0012 from './0012-outbox-stats-row-trigger.js';
import * as m0013 from './0013-one-message-per-order.js';
import * as m0014 from './0014-discarded-dead-letters-and-rate-limits.js';
import * as m0015 from './0015-payment-ledger.js';
import * as m0016 from './0016-returns.js';
import * as m0017 from './0017-money-counters.js';

/** Migrations ship inside the package (no directory scan), so a bundled or installed build finds them. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '0001-initial': m0001,
      '0002-customers-and-shipments': m0002,
      '0003-outbox-publishing': m0003,
      '0004-order-reference-numbers': m0004,
      '0005-drop-orders-created-index': m0005,
      '0006-stats-counters-and-workers': m0006,
      '0007-webhooks-and-email': m0007,
      '0010-outbox-unpublished-index': m0010,
      '0011-stats-funnel-counters': m0011,
      '0012-outbox-stats-row-trigger': m0012,
      '0013-one-message-per-order': m0013,
      '0014-discarded-dead-letters-and-rate-limits': m0014,
      '0015-payment-ledger': m0015,
      '0016-returns': m0016,
      '0017-money-counters': m0017,
    };
  },
};
