/**
 * @module gateway.yaml: the daemon's configuration, validated with zod so every mistake comes back as
 * `path: reason` lines (FERRY_GW_CONFIG) instead of a crash later. docs/gateway.md has a full example.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isLoopback } from '@ferry/base';
import { GatewayError } from '../uplink/errors.ts';
import { ComposeConfigSchema } from '../compose/config.ts';

const hex = (minBytes: number, exactBytes?: number) =>
  z
    .string()
    .regex(/^(?:[0-9a-fA-F]{2})+$/, 'must be hex digits, two per byte')
    .refine(
      (s) => (exactBytes === undefined ? s.length / 2 >= minBytes : s.length / 2 === exactBytes),
      exactBytes === undefined ? `must be at least ${minBytes} bytes` : `must be exactly ${exactBytes} bytes`,
    );
const mac = z.string().regex(/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/, 'must be a MAC address like A4:C1:38:00:11:22');

/** The `kind`s a `serial:` entry may have; each is a row of the daemon's source table (sources.ts). */
export const SERIAL_SOURCE_KINDS = ['pms5003', 'mhz19', 'board'] as const;

export const GatewayConfigSchema = z
  .object({
    gateway: z
      .object({
        id: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'must be 1..32 characters of [A-Za-z0-9._-] (it is the message kid)'),
        key_file: z.string().min(1).optional(),
        key: hex(32).optional(),
        data_dir: z.string().min(1).default('./data/gateway'),
      })
      .strict()
      .refine((g) => (g.key === undefined) !== (g.key_file === undefined), 'give exactly one of key or key_file'),
    uplink: z
      .object({
        url: z.string().regex(/^mqtts?:\/\/[^\s]+$/, 'must be an mqtt:// or mqtts:// URL'),
        username: z.string().optional(),
        password: z.string().optional(),
        // PEM files for mqtts:// (docs/gateway.md "TLS"): the CA the broker's certificate must chain to (pinned),
        // and a client certificate with its key, which the cloud identifies the gateway by.
        ca: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        topic_prefix: z
          .string()
          .regex(/^[^#+\s]+$/, 'must not contain wildcards or spaces')
          .default('ferry'),
        inflight: z.number().int().min(1).max(1000).default(32),
        // Messages per second the uplink sends at most (0: no limit). Below the cloud's per-device limit (200/s by
        // default), so draining a backlog after an outage is paced here rather than held back by the cloud.
        max_rate: z.number().min(0).default(150),
        buffer: z
          .object({
            max_rows: z.number().int().min(10).default(1_000_000),
            max_bytes: z
              .number()
              .int()
              .min(1024)
              .default(256 * 1024 * 1024),
            policy: z.enum(['drop-oldest', 'refuse-new']).default('drop-oldest'),
            synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
          })
          .strict()
          .default({ max_rows: 1_000_000, max_bytes: 256 * 1024 * 1024, policy: 'drop-oldest', synchronous: 'FULL' }),
      })
      .strict()
      .refine((u) => (u.cert === undefined) === (u.key === undefined), 'give both cert and key, or neither')
      .refine((u) => u.url.startsWith('mqtts:') || (u.ca === undefined && u.cert === undefined), 'ca, cert and key need an mqtts:// url'),
    // The daemon's HTTP API (docs/gateway.md, "HTTP API"). With `token_file`, every route but /health needs
    // `Authorization: Bearer <the file's token>`; an address other than loopback needs one.
    api: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8081),
        token_file: z.string().min(1).optional(),
      })
      .strict()
      .refine(
        (a) => a.token_file !== undefined || isLoopback(a.host),
        'api.host is not a loopback address: give api.token_file (the API would be open to the network)',
      )
      .default({ host: '127.0.0.1', port: 8081 }),
    // The control channel (docs/gateway.md, "The control protocol"): how far a request's timestamp may be
    // from this gateway's clock, and how many served request ids the replay window holds at most.
    control: z
      .object({
        max_age_s: z.number().int().min(10).max(3600).default(120),
        replay_window: z.number().int().min(100).max(1_000_000).default(10_000),
      })
      .strict()
      .default({ max_age_s: 120, replay_window: 10_000 }),
    // Signed commands for serial boards, queued while a board is unplugged (docs/actions.md "On the board").
    commands: z
      .object({ max_queued: z.number().int().min(1).max(10_000).default(64) })
      .strict()
      .default({ max_queued: 64 }),
    ble: z
      .object({
        enabled: z.boolean().default(true),
        bind_keys: z.record(mac, hex(16, 16)).default({}),
        quiet_ms: z.number().int().min(1000).default(120_000),
        allow_unordered: z.boolean().default(false),
      })
      .strict()
      .optional(),
    serial: z
      .array(
        z
          .object({
            path: z.string().min(1),
            kind: z.enum(SERIAL_SOURCE_KINDS),
            baud: z.number().int().positive().optional(),
            interval_ms: z.number().int().min(1000).optional(),
            // kind board: the board's id, so its commands are followed from the start (else learned from its messages)
            id: z
              .string()
              .regex(/^[A-Za-z0-9._-]{1,32}$/)
              .optional(),
          })
          .strict(),
      )
      .default([]),
    rules: z.array(z.union([z.record(z.string(), z.unknown()), z.string()])).default([]),
    compose: ComposeConfigSchema,
  })
  .strict();

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

export class ConfigError extends GatewayError {
  declare readonly code: 'FERRY_GW_CONFIG';
  readonly issues: readonly string[];
  constructor(issues: readonly string[], source: string) {
    super('FERRY_GW_CONFIG', `${source} is invalid:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function parseConfig(value: unknown, source = 'configuration'): GatewayConfig {
  const r = GatewayConfigSchema.safeParse(value);
  if (r.success) return r.data;
  throw new ConfigError(
    r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`),
    source,
  );
}

export function loadConfig(path: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([`cannot read: ${(e as Error).message}`], path);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new ConfigError([`not YAML: ${(e as Error).message.split('\n')[0]}`], path);
  }
  return parseConfig(value, path);
}

/** Shortest API token accepted: 32 characters leave no room for guessing. */
export const MIN_API_TOKEN = 32;

/** The API token from `api.token_file` (white space around it ignored), or undefined without one. */
export function apiToken(cfg: GatewayConfig): string | undefined {
  const file = cfg.api.token_file;
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new ConfigError([`api.token_file: ${(e as Error).message}`], 'api');
  }
  if (text.length < MIN_API_TOKEN) throw new ConfigError([`api.token_file: the token must be at least ${MIN_API_TOKEN} characters`], 'api');
  return text;
}

/** The gateway key bytes, from `key` or `key_file` (hex, surrounding white space ignored). */
export function gatewayKey(cfg: GatewayConfig): Uint8Array {
  const text = cfg.gateway.key ?? readFileSync(cfg.gateway.key_file!, 'utf8').trim();
  if (!/^(?:[0-9a-fA-F]{2}){32,}$/.test(text)) throw new ConfigError(['gateway.key_file: must hold at least 32 bytes of hex'], 'key');
  return Buffer.from(text, 'hex');
}

/** The uplink's TLS files (uplink.ca, .cert, .key) read as PEM; undefined when none is given. */
export function uplinkTls(cfg: GatewayConfig): { ca?: string; cert?: string; key?: string } | undefined {
  const u = cfg.uplink;
  const read = (field: 'ca' | 'cert' | 'key'): Record<string, string> => {
    const file = u[field];
    if (file === undefined) return {};
    try {
      return { [field]: readFileSync(file, 'utf8') };
    } catch (e) {
      throw new ConfigError([`uplink.${field}: cannot read ${file}: ${(e as Error).message}`], 'uplink');
    }
  };
  const tls = { ...read('ca'), ...read('cert'), ...read('key') };
  return Object.keys(tls).length > 0 ? tls : undefined;
}
