import { randomUUID } from 'node:crypto';
import type { Buildflow } from '../core/buildflow.js';
import { recordSend, type EmailRow } from '../core/mail/emails.js';
import { claimDueRows } from '../core/webhooks/claim-due.js';
import { planAttempt, recordAttempt, type DeliveryRow } from '../core/webhooks/deliveries.js';
import { DeliveryPump } from './delivery-pump.js';
import type { Logger } from './logger.js';
import { MailSender } from './mail-sender.js';
import { WebhookSender } from './webhook-sender.js';
import { DEFAULTS } from '../core/defaults.js';

const MAIL_LEASE_MS = DEFAULTS.deliveries.mailLeaseMs;

export interface RunningDeliveries {
  stop(timeoutMs?: number): Promise<void>;
}

export interface DeliveryOptions {
  logger: Logger;
  /** How often idle pumps look for due deliveries. */
  pollMs?: number;
}

/**
 * Starts the webhook pump and, with SMTP configured, the email pump. Both claim their rows from
 * the database on either transport, with their own concurrency, so a receiver that hangs holds
 * one of its own slots and never a pipeline worker.
 */
export function startDeliveries(app: Buildflow, options: DeliveryOptions): RunningDeliveries {
  const { logger } = options;
  const pollMs = options.pollMs ?? DEFAULTS.deliveries.pollMs;
  const workerId = `delivery-${process.pid}-${randomUUID().slice(0, 8)}`;
  const hooks = app.config.webhooks;
  const sender = new WebhookSender({ allowPrivate: hooks.allowPrivate, timeoutMs: hooks.timeoutMs });
  const webhookLeaseMs = hooks.timeoutMs + DEFAULTS.deliveries.webhookLeaseMarginMs;
  const webhooks = new DeliveryPump<DeliveryRow>(
    'webhooks',
    (limit) => claimDueRows(app.db, 'webhook_deliveries', { workerId, limit, leaseMs: webhookLeaseMs, now: Date.now() }),
    async (d) => {
      const plan = await planAttempt(app.db, d, Date.now());
      if (!plan.send) return;
      const outcome = await sender.send(plan);
      const status = await recordAttempt(app.db, d, outcome, hooks);
      if (status !== 'delivered') {
        logger.warn({ delivery: d.message_id, endpoint: d.endpoint_id, attempt: d.attempts, status, statusCode: outcome.statusCode, err: outcome.error }, 'webhook attempt failed');
      }
    },
    logger,
    { concurrency: hooks.concurrency, pollMs },
  );
  webhooks.start();

  const mailConfig = app.config.mail;
  let mail: DeliveryPump<EmailRow> | undefined;
  let mailer: MailSender | undefined;
  if (mailConfig) {
    const m = (mailer = new MailSender({ smtpUrl: mailConfig.smtpUrl, from: mailConfig.from }));
    mail = new DeliveryPump<EmailRow>(
      'email',
      (limit) => claimDueRows(app.db, 'email_messages', { workerId, limit, leaseMs: MAIL_LEASE_MS, now: Date.now() }),
      async (row) => {
        const outcome = await m.send(row);
        const status = await recordSend(app.db, row, outcome, hooks.retrySchedule);
        if (!outcome.ok) logger.warn({ email: row.id, attempt: row.attempts, status, err: outcome.error }, 'email not sent');
      },
      logger,
      { concurrency: mailConfig.concurrency, pollMs },
    );
    mail.start();
  }
  // Deliveries committed in this process are sent at once; polling finds those of other processes.
  const stopWaking = app.units.onCommit((work) => {
    if (work.deliveries === 0) return;
    webhooks.wake();
    mail?.wake();
  });

  return {
    async stop(timeoutMs) {
      stopWaking();
      await Promise.all([webhooks.stop(timeoutMs), mail?.stop(timeoutMs)]);
      await sender.close();
      mailer?.close();
    },
  };
}
