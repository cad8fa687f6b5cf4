/** @module `ferry gateway`: run the gateway daemon, check its configuration, or register a gateway on a running cloud. */
import { Command } from 'commander';
import { GatewayDaemon, buildSources, loadConfig, ConfigError } from '@ferry/gateway';
import type { GatewayConfig, Source } from '@ferry/gateway';
import type { Io } from './io.ts';
import { send, withApi, type ApiFlags } from './api-client.ts';
import { systemdNotifier } from './sd-notify.ts';

export function gatewayCommands(io: Io, setCode: (c: number) => void): Command {
  const gw = new Command('gateway').description('the gateway daemon: BLE and serial to MQTT with store-and-forward and edge rules');
  gw.command('check-config')
    .description('validate gateway.yaml and print the effective configuration (defaults filled in)')
    .requiredOption('--config <file>', 'gateway.yaml')
    .action((o: { config: string }) => {
      try {
        const cfg = loadConfig(o.config);
        io.out(`${JSON.stringify({ ...cfg, gateway: { ...cfg.gateway, key: cfg.gateway.key === undefined ? undefined : '(hidden)' } }, null, 2)}\n`);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        io.err(`${e.message}\n`);
        setCode(1);
      }
    });
  gw.command('start')
    .description('run the daemon until SIGINT/SIGTERM')
    .requiredOption('--config <file>', 'gateway.yaml')
    .action(async (o: { config: string }) => {
      process.umask(0o077); // files the daemon writes are its own: 0600 (docs/gateway.md, "Files")
      let cfg: GatewayConfig;
      let sources: Source[];
      try {
        cfg = loadConfig(o.config);
        sources = await buildSources(cfg);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        io.err(`${e.message}\n`);
        setCode(1);
        return;
      }
      const daemon = new GatewayDaemon(cfg, { sources });
      const address = await daemon.start();
      io.out(`ferry gateway ${cfg.gateway.id}: API ${address}, uplink ${cfg.uplink.url}\n`);
      // Under systemd (Type=notify, WatchdogSec): ready now, then pings while the event loop runs.
      const systemd = await systemdNotifier(io.env, (m) => io.err(`${m}\n`));
      systemd?.ready();
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          systemd?.stop();
          void daemon.stop().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
  withApi(
    gw
      .command('add <id>')
      .description('register a gateway on a running cloud; its key and MQTT credentials are printed once (put them in gateway.yaml)')
      .option('--owner <id>', 'the owner the gateway belongs to')
      .option('--board <kid...>', 'boards the gateway may publish for'),
  ).action((id: string, o: ApiFlags & { owner?: string; board?: string[] }) =>
    send(io, setCode, o, 'POST', '/api/gateways', {
      json: { id, ...(o.owner !== undefined && { owner: o.owner }), ...(o.board !== undefined && { boards: o.board }) },
    }),
  );
  return gw;
}
