/**
 * A child process of bench/actions.ts: many lightweight devices (@ferry/test-kit/command-device) on one
 * broker. It gets `{url, devices: [[id, keyHex], ...]}` over IPC, connects them all, answers `ready`, and
 * on `report` sends how many commands were applied, and how many ids were applied more than once.
 */
import { CommandDevice } from '@ferry/test-kit/command-device';

const devs: CommandDevice[] = [];
process.on('message', (m: { url?: string; devices?: [string, string][]; report?: true; stop?: true }) => {
  void (async () => {
    if (m.url !== undefined && m.devices !== undefined) {
      for (let i = 0; i < m.devices.length; i += 50)
        devs.push(...(await Promise.all(m.devices.slice(i, i + 50).map(([id, key]) => CommandDevice.connect({ url: m.url!, id, key })))));
      process.send?.({ ready: devs.length });
    } else if (m.report === true) {
      let applied = 0;
      let twice = 0;
      for (const d of devs)
        for (const n of d.applied.values()) {
          applied += n;
          if (n > 1) twice++;
        }
      process.send?.({ applied, twice });
    } else if (m.stop === true) {
      await Promise.all(devs.map((d) => d.close(true)));
      process.exit(0);
    }
  })();
});
