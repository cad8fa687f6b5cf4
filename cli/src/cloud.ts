/** @module `ferry cloud` and `ferry device`: run the cloud service; provision devices through its API. */
import { Command } from 'commander';
import { CloudService, isLoopback } from '@ferry/cloud';
import { intOption } from './key.ts';
import { UsageError } from './usage.ts';
import type { Io } from './io.ts';

export function cloudCommands(io: Io): Command {
  const cloud = new Command('cloud').description('the cloud service: ingest, rules, devices');
  cloud
    .command('start')
    .description('run the cloud service until SIGINT/SIGTERM (embedded broker unless --mqtt is given)')
    .option('--data <dir>', 'data directory (SQLite, master key)', './data/cloud')
    .option('--mqtt <url>', 'external MQTT broker (scale-out mode); default: embedded broker')
    .option('--mqtt-port <port>', 'embedded broker port', '1883')
    .option('--http-port <port>', 'HTTP API port', '8080')
    .option('--host <addr>', 'address the embedded MQTT broker listens on (boards on a LAN need a LAN address, with --insecure until TLS)', '127.0.0.1')
    .option('--http-host <addr>', 'address the HTTP API listens on, apart from MQTT', '127.0.0.1')
    .option('--insecure', 'allow a non-loopback address without TLS (everything crosses the network in clear)')
    .option('--move-peer <url...>', "another runtime's HTTP API that rules may be moved to (registered gateways need none)")
    .option('--shared', 'use an MQTT 5 shared subscription ($share/ferry/...) so several processes split the stream')
    .option('--redis <url>', 'keep re-order state and time series in Redis (scale-out); default SQLite under --data')
    .option('--id <id>', 'a stable worker id: its MQTT session persists, so after a crash or kill the restarted worker gets back what it had not acknowledged')
    .option(
      '--device-rate <n>',
      'flood limit: messages per second per device (burst 5x); past it acknowledgements are held back (the sender is paced, nothing is dropped); 0 for none',
      '200',
    )
    .option('--sync <mode>', 'SQLite durability: normal (survives process crashes) or full (also power loss; fsync per commit, slower)', 'normal')
    .action(
      async (o: {
        data: string;
        mqtt?: string;
        mqttPort: string;
        httpPort: string;
        host: string;
        httpHost: string;
        insecure?: boolean;
        movePeer?: string[];
        shared?: boolean;
        redis?: string;
        sync: string;
        id?: string;
        deviceRate: string;
      }) => {
        if (o.sync !== 'full' && o.sync !== 'normal') throw new UsageError('--sync must be full or normal');
        for (const [flag, addr] of [
          ['--host', o.host],
          ['--http-host', o.httpHost],
        ] as const) {
          if (!isLoopback(addr) && o.insecure !== true)
            throw new UsageError(
              `${flag} ${addr} is not a loopback address and there is no TLS yet: everything would cross the network in clear; add --insecure to do it anyway`,
            );
        }
        // Everything the service writes is its own: files 0600, directories 0700 (docs/cloud.md, "Data directory").
        process.umask(0o077);
        const svc = new CloudService({
          dataDir: o.data,
          host: o.host,
          httpHost: o.httpHost,
          insecure: o.insecure === true,
          movePeers: o.movePeer ?? [],
          shared: o.shared === true,
          mqttPort: intOption(o.mqttPort, '--mqtt-port', 0, 65535),
          httpPort: intOption(o.httpPort, '--http-port', 0, 65535),
          ...(o.mqtt !== undefined && { mqttUrl: o.mqtt }),
          ...(o.redis !== undefined && { redisUrl: o.redis }),
          ...(o.id !== undefined && { clientId: o.id }),
          // MQTT credentials come from the environment only, never a flag: flags show in the process list.
          ...mqttCredentials(process.env),
          deviceRate:
            o.deviceRate === '0'
              ? false
              : { perSecond: intOption(o.deviceRate, '--device-rate', 1, 1_000_000), burst: 5 * intOption(o.deviceRate, '--device-rate', 1, 1_000_000) },
          synchronous: o.sync === 'full' ? 'FULL' : 'NORMAL',
          log: (m) => io.out(`${m}\n`),
        });
        await svc.start();
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            void svc.stop().then(resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
  return cloud;
}

export function deviceCommands(io: Io, setCode: (c: number) => void): Command {
  const device = new Command('device').description('provision devices on a running cloud service');
  device
    .command('add <id>')
    .description('create a device and its key; the key is printed once (store it on the device)')
    .option('--namespace <ns>', 'namespace the device belongs to', 'default')
    .option('--gateway-kind', 'register a gateway (it may publish for the boards attached to it), not a board')
    .option('--gateway <id>', 'attach the board to this registered gateway (same owner): the gateway may publish its uplink')
    .option('--api <url>', 'cloud HTTP API', 'http://127.0.0.1:8080')
    .option(
      '--owner-token-env <var>',
      "environment variable holding the namespace owner's private token: the device's readings then feed that owner's function namespace",
    )
    .action(async (id: string, o: { namespace: string; api: string; ownerTokenEnv?: string; gatewayKind?: boolean; gateway?: string }) => {
      let privateToken: string | undefined;
      if (o.ownerTokenEnv !== undefined) {
        privateToken = process.env[o.ownerTokenEnv];
        if (privateToken === undefined || privateToken === '') throw new UsageError(`${o.ownerTokenEnv} is not set`);
      }
      let res: Response;
      try {
        res = await fetch(`${o.api.replace(/\/+$/, '')}/api/devices`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            id,
            namespace: o.namespace,
            ...(privateToken !== undefined && { privateToken }),
            ...(o.gatewayKind === true && { kind: 'gateway' }),
            ...(o.gateway !== undefined && { gateway: o.gateway }),
          }),
        });
      } catch (e) {
        throw new UsageError(`cannot reach the cloud API at ${o.api}: ${(e as Error).message}`);
      }
      const body = (await res.json()) as { key?: string; code?: string; message?: string };
      if (!res.ok) {
        io.err(`${body.message ?? body.code ?? res.status}\n`);
        setCode(1);
        return;
      }
      io.out(`${JSON.stringify(body)}\n`);
    });
  device
    .command('list')
    .option('--api <url>', 'cloud HTTP API', 'http://127.0.0.1:8080')
    .action(async (o: { api: string }) => {
      const res = await fetch(`${o.api.replace(/\/+$/, '')}/api/devices`).catch((e: Error) => {
        throw new UsageError(`cannot reach ${o.api}: ${e.message}`);
      });
      io.out(`${JSON.stringify(await res.json(), null, 2)}\n`);
    });
  return device;
}

/**
 * The worker credential (FERRY_MQTT_USERNAME / FERRY_MQTT_PASSWORD) and Mosquitto's dynamic-security admin
 * credential (FERRY_MQTT_DYNSEC_USERNAME / FERRY_MQTT_DYNSEC_PASSWORD), each only when both halves are set.
 * MQTT authentication itself cannot be turned off from here (CloudOptions.mqttAuth is the benchmark's).
 */
export function mqttCredentials(env: Record<string, string | undefined>): {
  mqttUsername?: string;
  mqttPassword?: string;
  mqttDynsec?: { username: string; password: string };
} {
  const u = env['FERRY_MQTT_USERNAME'];
  const p = env['FERRY_MQTT_PASSWORD'];
  const du = env['FERRY_MQTT_DYNSEC_USERNAME'];
  const dp = env['FERRY_MQTT_DYNSEC_PASSWORD'];
  return {
    ...(u !== undefined && p !== undefined && { mqttUsername: u, mqttPassword: p }),
    ...(du !== undefined && dp !== undefined && { mqttDynsec: { username: du, password: dp } }),
  };
}
