import { connect } from 'node:net';
import { DoctorTimeoutError } from './check.js';

/**
 * Resolves once a TCP connection to `host:port` opens (and, with `hello`, once the server answers
 * those bytes), then closes it; rejects with the connection error, or {@link DoctorTimeoutError}
 * after `timeoutMs`. Doctor probes a server this way before handing it to a client library: pg
 * has no connect timeout unless its pool is built with one (a server that accepts and stays silent
 * would hold the process open), and ioredis leaves its connect timer running after a refused
 * connection.
 */
export function probeTcp(host: string, port: number, timeoutMs: number, hello?: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new DoctorTimeoutError(`${host}:${port}`, timeoutMs)), timeoutMs);
    socket.once('connect', () => (hello ? socket.write(hello) : done()));
    socket.once('data', () => done());
    socket.once('error', (err) => done(err));
    socket.once('close', () => done(new Error(`${host}:${port} closed the connection without answering`)));
  });
}

/**
 * Postgres's SSLRequest: any server answers it with one byte before authentication, and hanging
 * up after the answer leaves nothing in its log.
 */
export const POSTGRES_SSL_REQUEST = Uint8Array.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** Host and port of a `postgres://` or `redis://` URL, or undefined when it names a Unix socket or cannot be parsed. */
export function tcpAddress(url: string, defaultPort: number): { host: string; port: number } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined; // let the client library report what it makes of it
  }
  const hostParam = u.searchParams.get('host');
  if (hostParam?.startsWith('/') || decodeURIComponent(u.hostname).startsWith('/')) return undefined;
  const host = (hostParam ?? u.hostname).replace(/^\[(.*)\]$/, '$1');
  if (!host) return undefined;
  return { host, port: Number(u.searchParams.get('port') ?? u.port) || defaultPort };
}
