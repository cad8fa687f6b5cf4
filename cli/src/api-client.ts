/**
 * @module The one HTTP client of every command that operates a running cloud (docs/cli.md, "Operating a
 * cloud"). The address comes from --api or FERRY_API, the credential from FERRY_TOKEN only, never a flag, so
 * it stays out of shell history; it travels as `Authorization: Bearer <token>` (RFC 6750 §2.1). An answer
 * is printed as JSON on stdout; a refusal (any non-2xx) prints the API's JSON error on stderr and sets exit
 * code 1; a call that cannot be made (no FERRY_TOKEN, API unreachable) is a usage error, exit 2.
 */
import type { Command } from 'commander';
import type { Io } from './io.ts';
import { cloudFetch, readCa } from './https.ts';
import { UsageError } from './usage.ts';

export const DEFAULT_API = 'http://127.0.0.1:8080';

/** A request body: JSON, or raw bytes of a content type (a wasm module). */
export type RequestBody = { readonly json: unknown } | { readonly bytes: Uint8Array; readonly type: string };

export interface ApiAnswer {
  readonly status: number;
  readonly ok: boolean;
  /** The parsed JSON answer; a body that is not JSON comes as `{status, message: <its text>}`. */
  readonly body: unknown;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The options every API command takes. */
export interface ApiFlags {
  readonly api?: string;
  readonly ca?: string;
}

/** Adds `--api <url>` and `--ca <file>` to a command. */
export function withApi(cmd: Command): Command {
  return cmd
    .option('--api <url>', `cloud HTTP API (or FERRY_API; default ${DEFAULT_API})`)
    .option('--ca <file>', 'CA (PEM) an https:// API is verified with, alone (or FERRY_CA)');
}

/** FERRY_TOKEN, or a usage error naming what it should hold. */
export function credential(io: Io, what = 'your credential (an API token, or an owner private token)'): string {
  const t = io.env['FERRY_TOKEN'];
  if (t === undefined || t === '') throw new UsageError(`FERRY_TOKEN must hold ${what}`);
  return t;
}

export class ApiClient {
  readonly base: string;
  readonly #token: string;
  readonly #ca: string | undefined;

  /** `ca`: the PEM an https:// API is verified with, alone (https.ts); undefined for the system roots. */
  constructor(base: string, token: string, ca?: string) {
    this.base = base.replace(/\/+$/, '');
    this.#token = token;
    this.#ca = ca;
  }

  /** The client for a command's flags and environment; a usage error without FERRY_TOKEN. */
  static of(io: Io, flags: ApiFlags, what?: string): ApiClient {
    return new ApiClient(flags.api ?? io.env['FERRY_API'] ?? DEFAULT_API, credential(io, what), readCa(flags.ca, io.env));
  }

  async request(method: Method, path: string, body?: RequestBody): Promise<ApiAnswer> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    let payload: string | Uint8Array<ArrayBuffer> | undefined;
    if (body !== undefined && 'json' in body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body !== undefined) {
      headers['content-type'] = body.type;
      payload = Uint8Array.from(body.bytes); // a copy on its own ArrayBuffer, as fetch's BodyInit types it
    }
    let res: Response;
    let text: string;
    try {
      res = await cloudFetch(`${this.base}${path}`, { method, headers, ...(payload !== undefined && { body: payload }) }, this.#ca);
      text = await res.text();
    } catch (e) {
      const cause = (e as { cause?: { code?: unknown } }).cause?.code;
      throw new UsageError(`cannot reach the cloud API at ${this.base}: ${(e as Error).message}${typeof cause === 'string' ? ` (${cause})` : ''}`);
    }
    return { status: res.status, ok: res.ok, body: parse(text, res.status) };
  }

  /** A GET whose answer is read as it comes (server-sent events); `signal` ends it. */
  async open(path: string, signal?: AbortSignal): Promise<Response> {
    const init = { headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' }, ...(signal !== undefined && { signal }) };
    try {
      return await cloudFetch(`${this.base}${path}`, init, this.#ca);
    } catch (e) {
      throw new UsageError(`cannot reach the cloud API at ${this.base}: ${(e as Error).message}`);
    }
  }
}

function parse(text: string, status: number): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { status, message: text };
  }
}

/** Prints an answer: a list indented, anything else on one line; a refusal on stderr with exit code 1. */
export function print(io: Io, setCode: (c: number) => void, a: ApiAnswer): void {
  if (a.ok) io.out(`${Array.isArray(a.body) ? JSON.stringify(a.body, null, 2) : JSON.stringify(a.body)}\n`);
  else {
    io.err(`${JSON.stringify(a.body)}\n`);
    setCode(1);
  }
}

/** One request made with the command's flags, its answer printed. */
export async function send(io: Io, setCode: (c: number) => void, flags: ApiFlags, method: Method, path: string, body?: RequestBody): Promise<void> {
  print(io, setCode, await ApiClient.of(io, flags).request(method, path, body));
}

/** A path segment (an id may hold ':' or '/'). */
export const seg = (s: string): string => encodeURIComponent(s);
