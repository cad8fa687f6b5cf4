/**
 * @module What health transitions tell a notifier (docs/operations.md, "Events"): a device going offline or
 * coming back, a component whose restarts keep failing or that recovered. The notifier itself is wired by
 * the service; without one the events are only visible through the health routes.
 */
export interface OpsEvent {
  /** The owner of the device concerned; none for the cloud's own components (global). */
  readonly owner?: string;
  readonly kind: 'device.offline' | 'device.online' | 'component.failing' | 'component.recovered';
  /** A device id (`<gateway>/<sensor>` for a gateway's sensor) or a component name. */
  readonly source: string;
  readonly at: number;
  readonly priority?: 'high' | 'normal' | 'low';
  readonly data: Record<string, unknown>;
}

export type Notify = (e: OpsEvent) => void;

/** Calls `notify` and swallows what it throws: a notifier's failure never stops health tracking. */
export function safeNotify(notify: Notify | undefined, log: (m: string) => void): Notify {
  return (e) => {
    try {
      notify?.(e);
    } catch (err) {
      log(`notify ${e.kind} ${e.source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}
