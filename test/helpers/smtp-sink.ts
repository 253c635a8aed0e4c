import { SMTPServer } from 'smtp-server';

/** A message the sink accepted, with its headers and decoded text. */
export interface SunkMail {
  from: string;
  to: string[];
  raw: string;
  header(name: string): string | undefined;
  /** The raw message with quoted-printable soft breaks and escapes undone (enough to search text). */
  text: string;
}

function decodeQuotedPrintable(raw: string): string {
  const joined = raw.replace(/=\r?\n/g, '');
  return Buffer.from(joined.replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
}

/** A real SMTP server (the `smtp-server` package) on loopback that keeps every message it accepts. */
export class SmtpSink {
  readonly mails: SunkMail[] = [];
  private server: SMTPServer | undefined;
  port = 0;

  async start(port = 0): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const headerText = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
          const headers = new Map<string, string>();
          for (const line of headerText.split(/\r?\n/)) {
            const i = line.indexOf(':');
            if (i > 0) headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
          }
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            header: (name) => headers.get(name.toLowerCase()),
            text: decodeQuotedPrintable(raw),
          });
          callback();
        });
      },
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = (server as unknown as { server: import('node:net').Server }).server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
