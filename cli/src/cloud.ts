/** @module `ferry cloud` and `ferry device`: run the cloud service; provision devices through its API. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CloudService, isLoopback } from '@ferry/cloud';
import { certsCommand } from './certs.ts';
import { intOption } from './key.ts';
import { rotateCommand } from './rotate.ts';
import { systemdNotifier } from './sd-notify.ts';
import { UsageError } from './usage.ts';
import type { Io } from './io.ts';
import { send, seg, withApi, type ApiFlags } from './api-client.ts';

export function cloudCommands(io: Io, setCode: (c: number) => void): Command {
  const cloud = new Command('cloud').description('the cloud service: ingest, rules, devices');
  cloud
    .command('start')
    .description('run the cloud service until SIGINT/SIGTERM (embedded broker unless --mqtt is given)')
    .option('--data <dir>', 'data directory (SQLite, master key)', './data/cloud')
    .option('--mqtt <url>', 'external MQTT broker (scale-out mode); default: embedded broker')
    .option('--mqtt-port <port>', 'embedded broker port', '1883')
    .option('--http-port <port>', 'HTTP API port', '8080')
    .option('--host <addr>', 'address the embedded MQTT broker listens on (boards on a LAN need a LAN address: with TLS, or --insecure)', '127.0.0.1')
    .option('--http-host <addr>', 'address the HTTP API listens on, apart from MQTT', '127.0.0.1')
    .option('--tls-cert <file>', 'server certificate (PEM, chain after it): the broker speaks mqtts and the API https')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--tls-ca <file>', 'CA (PEM) that signs client certificates (with --tls-client-certs) and that the cloud trusts its own broker with')
    .option('--tls-client-certs', 'ask MQTT clients for a certificate: a gateway presenting one signed by --tls-ca is identified by its CN')
    .option('--mqtt-ca <file>', 'CA (PEM) to verify an external mqtts:// broker (--mqtt) with, instead of the system roots')
    .option('--insecure', 'allow a non-loopback address without TLS (everything crosses the network in clear)')
    .option(
      '--public-url <url>',
      "the base URL gateways reach this HTTP API at, when not the address admins use (a reverse proxy, NAT); default: the request's address",
    )
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
    .option(
      '--probe <seconds>',
      'run the latency probe: a built-in device sends a signed message every <seconds> through MQTT, ingest and a rule (docs/operations.md)',
    )
    .option('--probe-alarm-ms <ms>', 'the built-in probe-latency alarm\'s threshold (docs/operations.md "Alarms")', '1000')
    .option('--check-period <ms>', 'how often supervised components are checked and devices judged (docs/operations.md)', '1000')
    .option(
      '--notify-allow-private',
      'let webhook and SMTP notification channels reach loopback, private and link-local addresses (a lab; docs/notifications.md)',
    )
    .action(
      async (o: {
        data: string;
        mqtt?: string;
        mqttPort: string;
        httpPort: string;
        host: string;
        httpHost: string;
        insecure?: boolean;
        tlsCert?: string;
        tlsKey?: string;
        tlsCa?: string;
        tlsClientCerts?: boolean;
        mqttCa?: string;
        movePeer?: string[];
        publicUrl?: string;
        shared?: boolean;
        redis?: string;
        sync: string;
        id?: string;
        deviceRate: string;
        probe?: string;
        probeAlarmMs: string;
        checkPeriod: string;
        notifyAllowPrivate?: boolean;
      }) => {
        if (o.sync !== 'full' && o.sync !== 'normal') throw new UsageError('--sync must be full or normal');
        if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
        if (o.tlsCert === undefined && (o.tlsCa !== undefined || o.tlsClientCerts === true))
          throw new UsageError('--tls-ca and --tls-client-certs need --tls-cert and --tls-key');
        if (o.tlsClientCerts === true && o.tlsCa === undefined)
          throw new UsageError('--tls-client-certs needs --tls-ca: the CA client certificates must be signed by');
        const pem = (flag: string, file: string): string => {
          try {
            return readFileSync(file, 'utf8');
          } catch (e) {
            throw new UsageError(`${flag} ${file}: ${(e as Error).message}`);
          }
        };
        const tls =
          o.tlsCert !== undefined && o.tlsKey !== undefined
            ? {
                cert: pem('--tls-cert', o.tlsCert),
                key: pem('--tls-key', o.tlsKey),
                ...(o.tlsCa !== undefined && { ca: pem('--tls-ca', o.tlsCa) }),
                requestClientCert: o.tlsClientCerts === true,
              }
            : undefined;
        for (const [flag, addr] of [
          ['--host', o.host],
          ['--http-host', o.httpHost],
        ] as const) {
          if (!isLoopback(addr) && o.insecure !== true && tls === undefined)
            throw new UsageError(
              `${flag} ${addr} is not a loopback address and TLS is off: everything would cross the network in clear; give --tls-cert and --tls-key, or add --insecure to do it anyway`,
            );
        }
        // Everything the service writes is its own: files 0600, directories 0700 (docs/cloud.md, "Data directory").
        process.umask(0o077);
        const svc = new CloudService({
          dataDir: o.data,
          host: o.host,
          httpHost: o.httpHost,
          insecure: o.insecure === true,
          ...(tls !== undefined && { tls }),
          ...(o.mqttCa !== undefined && { mqttCa: pem('--mqtt-ca', o.mqttCa) }),
          movePeers: o.movePeer ?? [],
          ...(o.publicUrl !== undefined && { publicUrl: o.publicUrl }),
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
          health: {
            checkPeriodMs: intOption(o.checkPeriod, '--check-period', 100, 3_600_000),
            ...(o.probe !== undefined && {
              probe: { periodMs: 1000 * intOption(o.probe, '--probe', 1, 3600), alarmMs: intOption(o.probeAlarmMs, '--probe-alarm-ms', 0, 3_600_000) },
            }),
          },
          ...(o.notifyAllowPrivate === true && { notify: { allowPrivateAddresses: true } }),
          log: (m) => io.out(`${m}\n`),
        });
        await svc.start();
        // Under systemd (Type=notify, WatchdogSec): ready now, then pings while the event loop runs.
        const systemd = await systemdNotifier(io.env, (m) => io.err(`${m}\n`));
        systemd?.ready();
        if (svc.adminTokenCreated)
          io.out(`ferry cloud: admin credential, shown once (kept in ${o.data}/admin.token, mode 0600; FERRY_ADMIN_TOKEN overrides it): ${svc.adminToken}\n`);
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            systemd?.stop();
            void svc.stop().then(resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
  cloud.addCommand(rotateCommand(io, setCode));
  cloud.addCommand(certsCommand(io));
  return cloud;
}

export function deviceCommands(io: Io, setCode: (c: number) => void): Command {
  const device = new Command('device').description('provision devices on a running cloud service');
  withApi(
    device
      .command('add <id>')
      .description('create a device and its key; the key and MQTT credentials are printed once (store them on the device)')
      .option('--namespace <ns>', 'namespace the device belongs to', 'default')
      .option('--owner <id>', "the owner whose function namespace the device's readings feed")
      .option('--gateway <id>', 'the gateway the device reaches the cloud through')
      .option(
        '--owner-token-env <var>',
        "environment variable holding the owner's private token (sent in the body): the device's readings then feed that owner's function namespace",
      ),
  ).action(async (id: string, o: ApiFlags & { namespace: string; owner?: string; gateway?: string; ownerTokenEnv?: string }) => {
    let privateToken: string | undefined;
    if (o.ownerTokenEnv !== undefined) {
      privateToken = io.env[o.ownerTokenEnv];
      if (privateToken === undefined || privateToken === '') throw new UsageError(`${o.ownerTokenEnv} is not set`);
    }
    const body = {
      id,
      namespace: o.namespace,
      ...(o.owner !== undefined && { owner: o.owner }),
      ...(o.gateway !== undefined && { gateway: o.gateway }),
      ...(privateToken !== undefined && { privateToken }),
    };
    await send(io, setCode, o, 'POST', '/api/devices', { json: body });
  });
  withApi(device.command('list').description('the devices (never their keys)')).action((o: ApiFlags) => send(io, setCode, o, 'GET', '/api/devices'));
  withApi(device.command('remove <id>').description('remove a device: its key and MQTT credentials stop working')).action((id: string, o: ApiFlags) =>
    send(io, setCode, o, 'DELETE', `/api/devices/${seg(id)}`),
  );
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
