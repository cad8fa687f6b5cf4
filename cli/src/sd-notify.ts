/**
 * @module systemd's notify protocol for `ferry cloud start` and `ferry gateway start` under a unit with
 * `Type=notify` and `WatchdogSec` (docs/operations.md, "systemd units"; sd_notify(3)): `READY=1` once the
 * service listens, `WATCHDOG=1` every half watchdog period from a timer of the event loop, `STOPPING=1` on a
 * clean stop. A stalled event loop runs no timer, so the pings stop and systemd kills and restarts the
 * process (`Restart=always`); the pings never come from another thread, which would keep a hung loop alive.
 *
 * Node has no unix datagram sockets (node:dgram is UDP only), so node-unix-socket (N-API, prebuilt per
 * platform, no install script) sends the datagrams. Not the `systemd-notify` command: its message comes
 * from a child's pid, which needs `NotifyAccess=all` and can be dropped when the child exits before systemd
 * reads it, and a process per ping is what a watchdog should not depend on.
 */
type UnixSockets = typeof import('node-unix-socket');

/**
 * The library's native part is a package per platform: loaded only when systemd asks for notifications, so a
 * platform without its binary still runs every command, and says why it cannot notify.
 */
async function loadSockets(log: (m: string) => void): Promise<UnixSockets | undefined> {
  try {
    return await import('node-unix-socket');
  } catch (e) {
    log(`systemd: node-unix-socket cannot load on this platform (${(e as Error).message}); no readiness or watchdog notifications`);
    return undefined;
  }
}

export interface SystemdNotifier {
  /** Sends `READY=1` and starts the watchdog pings, if the unit asked for them. */
  ready(): void;
  /** Sends one state line now (`STATUS=...`). */
  send(state: string): void;
  /** Sends `STOPPING=1` and stops pinging. */
  stop(): void;
}

/** The watchdog period systemd asked for (WATCHDOG_USEC, for this pid if WATCHDOG_PID names one), ms. */
export function watchdogMs(env: Readonly<Record<string, string | undefined>>, pid = process.pid): number | undefined {
  const usec = Number(env['WATCHDOG_USEC']);
  const forPid = env['WATCHDOG_PID'];
  if (!(usec > 0) || (forPid !== undefined && forPid !== '' && Number(forPid) !== pid)) return undefined;
  return usec / 1000;
}

/**
 * A notifier for `$NOTIFY_SOCKET`; undefined when the process was not started by systemd with one. Abstract
 * sockets (`@name`) are not supported by the socket library: they are reported through `log` and ignored.
 */
export async function systemdNotifier(env: Readonly<Record<string, string | undefined>>, log: (m: string) => void): Promise<SystemdNotifier | undefined> {
  const path = env['NOTIFY_SOCKET'];
  if (path === undefined || path === '') return undefined;
  if (path.startsWith('@')) {
    log(`systemd: NOTIFY_SOCKET ${path} is an abstract socket, which is not supported; no readiness or watchdog notifications`);
    return undefined;
  }
  const lib = await loadSockets(log);
  if (lib === undefined) return undefined;
  const socket = new lib.DgramSocket();
  socket.on('error', (e: Error) => log(`systemd: ${e.message}`));
  let failed = false;
  const send = (state: string): void => {
    const b = Buffer.from(state);
    try {
      socket.sendTo(b, 0, b.length, path, (e) => {
        if (e !== undefined && e !== null && !failed) {
          failed = true; // said once: a missing socket would otherwise log at every ping
          log(`systemd: notify ${state}: ${e.message}`);
        }
      });
    } catch (e) {
      if (!failed) log(`systemd: notify ${state}: ${(e as Error).message}`);
      failed = true;
    }
  };
  const period = watchdogMs(env);
  let timer: NodeJS.Timeout | undefined;
  return {
    ready() {
      send('READY=1');
      if (period === undefined || timer !== undefined) return;
      // Half the period, as sd_watchdog_enabled(3) advises: one late ping does not kill a healthy process.
      timer = setInterval(() => send('WATCHDOG=1'), Math.max(1, Math.floor(period / 2)));
      timer.unref();
    },
    send,
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      send('STOPPING=1');
      setTimeout(() => socket.close(), 100).unref(); // the last datagram leaves first
    },
  };
}
