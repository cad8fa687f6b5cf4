/**
 * @module The `compose:` section of gateway.yaml (docs/gateway.md, "Composite streams"): whether the gateway
 * hosts composite streams, how much history it keeps, and which readings of its local sources feed which
 * simple stream (a reading's values become the stream's channels).
 */
import { z } from 'zod';

const name = z.string().regex(/^[^\s/#+]{1,128}$/, 'must be 1..128 characters, no spaces, "/", "#" or "+"');

export const ComposeConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Outputs kept per stream in compose.db. */
    history: z.number().int().min(0).max(100_000).default(1000),
    feeds: z
      .array(
        z
          .object({
            /** The reading's device (a BLE MAC, a serial sensor id). */
            device: z.string().min(1),
            /** Only readings of this decoder (bthome, pms5003...); any when absent. */
            kind: z.string().min(1).optional(),
            so: name,
            stream: name,
            /** Channel -> the reading's value name. */
            channels: z.record(z.string().min(1), z.string().min(1)).refine((c) => Object.keys(c).length > 0, 'name at least one channel'),
          })
          .strict(),
      )
      .max(256)
      .default([]),
  })
  .strict()
  .default({ enabled: true, history: 1000, feeds: [] });

export type ComposeConfig = z.infer<typeof ComposeConfigSchema>;
