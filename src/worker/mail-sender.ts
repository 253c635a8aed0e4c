import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailRow, SendOutcome } from '../core/mail/emails.js';
import { DEFAULTS } from '../core/defaults.js';

/** Sends customer emails over SMTP (nodemailer), one connection per message. */
export class MailSender {
  private readonly transport: Transporter;

  constructor(private readonly options: { smtpUrl: string; from: string; timeoutMs?: number }) {
    const timeout = options.timeoutMs ?? DEFAULTS.deliveries.mailTimeoutMs;
    this.transport = nodemailer.createTransport(options.smtpUrl, {
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    } as never);
  }

  async send(m: EmailRow): Promise<SendOutcome> {
    try {
      await this.transport.sendMail({
        from: this.options.from,
        to: m.recipient,
        subject: m.subject,
        text: m.text_body,
        html: m.html_body,
        // Stable across attempts, so a copy sent twice after a crash can be recognised downstream.
        messageId: m.message_id,
      });
      return { ok: true };
    } catch (err) {
      const e = err as Error & { responseCode?: number; command?: string; code?: string };
      // Refused for this message (recipient or content): retrying cannot help. Anything else —
      // server down, 4xx, authentication — may heal, and the mail waits for it.
      const permanent = (e.responseCode !== undefined && e.responseCode >= 550 && e.responseCode <= 554 && e.command !== 'AUTH PLAIN' && e.command !== 'AUTH LOGIN') || e.code === 'EENVELOPE';
      return { ok: false, permanent, error: e.message };
    }
  }

  close(): void {
    this.transport.close();
  }
}
