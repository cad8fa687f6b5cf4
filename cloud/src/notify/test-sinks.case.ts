/**
 * @module Loopback sinks for the notifier's tests (real servers, no mocks): an HTTP server whose answer each
 * test chooses, an SMTP server (the `smtp-server` package) that accepts or refuses, and a notifier over a
 * SQLite file with quick retries.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { SMTPServer } from 'smtp-server';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { SqliteNotifyStore } from '../storage/sqlite/notify-store.ts';
import { channelFrom, subscriptionFrom } from './config.ts';
import { Notifier, type NotifierOptions } from './notifier.ts';
import type { Channel } from './types.ts';

export interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface HttpSink {
  readonly url: string;
  readonly received: Received[];
  /** What to do with the next request: answer a status, or never answer ('hang'). */
  answer: (n: number) => number | 'hang';
  /** Answers the requests left hanging so far with `status`. */
  release(status: number): void;
  close(): Promise<void>;
}

export async function httpSink(): Promise<HttpSink> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const sink = {
    url: '',
    received,
    answer: (_n: number): number | 'hang' => 200,
    release: (status: number): void => {
      for (const r of hanging.splice(0)) r.writeHead(status).end();
    },
    close: async (): Promise<void> => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const a = sink.answer(received.length);
      if (a === 'hang') hanging.push(res);
      else res.writeHead(a).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return sink;
}

export interface Mail {
  readonly from: string;
  readonly to: readonly string[];
  readonly data: string;
}

export interface SmtpSink {
  readonly port: number;
  readonly mails: Mail[];
  /** Refuse every message with this SMTP reply (e.g. 550) instead of accepting it. */
  refuse: number | undefined;
  close(): Promise<void>;
}

export async function smtpSink(): Promise<SmtpSink> {
  const mails: Mail[] = [];
  const sink: { port: number; mails: Mail[]; refuse: number | undefined; close: () => Promise<void> } = {
    port: 0,
    mails,
    refuse: undefined,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (sink.refuse !== undefined) return done(Object.assign(new Error('refused by the test server'), { responseCode: sink.refuse }));
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        mails.push({ from, to: session.envelope.rcptTo.map((a) => a.address), data: Buffer.concat(chunks).toString('utf8') });
        done();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  sink.port = (server.server.address() as AddressInfo).port;
  return sink;
}

export interface Rig {
  readonly notifier: Notifier;
  readonly sealer: SecretSealer;
  readonly db: Database.Database;
  /** Adds a channel from a request body (owner alice unless given); returns it and its one-time secret. */
  channel(body: unknown, owner?: string): Promise<{ channel: Channel; secret?: string }>;
  /** Subscribes a channel (owner alice unless given). */
  subscribe(body: Record<string, unknown>, owner?: string): Promise<string>;
}

export const MASTER_KEY = randomBytes(32);

/** A notifier over the SQLite file `file` (a fresh one per call: "a restart"), quick retries. */
export function rig(file: string, o: Partial<NotifierOptions> = {}): Rig {
  const db = new Database(file);
  const sealer = new SecretSealer(MASTER_KEY, 'ferry notify channel secret');
  const notifier = new Notifier({
    store: new SqliteNotifyStore(db),
    sealer,
    prefix: 'ferry',
    mqtt: () => undefined,
    allowPrivateAddresses: true,
    retry: { maxAttempts: 3, initialMs: 20, maxMs: 80 },
    tickMs: 20,
    leaseMs: 2000,
    ...o,
  });
  return {
    notifier,
    sealer,
    db,
    channel: async (body, owner = 'alice') => {
      const made = channelFrom(body, { owner, sealer, allowPrivate: true, now: Date.now() });
      await notifier.store.putChannel(made.channel);
      return made;
    },
    subscribe: async (body, owner = 'alice') => {
      const s = subscriptionFrom(body, { owner, now: Date.now() });
      await notifier.store.putSubscription(s);
      return s.id;
    },
  };
}

/** Polls `f` until it holds (tests wait on outcomes, never on wall-clock figures). */
export async function until(f: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
