/** @module `ferry cloud` and `ferry device`: run the cloud service; provision devices through its API. */
import { Command } from 'commander';
import { CloudService, isLoopback } from '@ferry/cloud';
import { intOption } from './key.ts';
import { rotateCommand } from './rotate.ts';
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
          deviceRate:
            o.deviceRate === '0'
              ? false
              : { perSecond: intOption(o.deviceRate, '--device-rate', 1, 1_000_000), burst: 5 * intOption(o.deviceRate, '--device-rate', 1, 1_000_000) },
          synchronous: o.sync === 'full' ? 'FULL' : 'NORMAL',
          log: (m) => io.out(`${m}\n`),
        });
        await svc.start();
        if (svc.adminTokenCreated)
          io.out(`ferry cloud: admin credential, shown once (kept in ${o.data}/admin.token, mode 0600; FERRY_ADMIN_TOKEN overrides it): ${svc.adminToken}\n`);
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            void svc.stop().then(resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
  cloud.addCommand(rotateCommand(io, setCode));
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
