/**
 * @module `ferry demo`: the online demo. One process runs the cloud (embedded broker, SQLite) and four
 * emulated boards in one house on the same furnace: a thermostat in the living room and room readers in the
 * kitchen, bedroom and hall, all running the real firmware. Every board's signed messages go to the cloud;
 * the cloud verifies and re-orders them and writes each room's temperature into the house owner's namespace.
 * Before each tick the thermostat calls `min_temperature` BY HASH in the cloud (a 919-byte wasm function,
 * uploaded once when the cloud asks for it, white-listed by the owner, run under the board's public token)
 * and so decides on the COLDEST room, not just its own. Two-thirds of the way through the cloud goes away:
 * the call times out and the board runs the same function on its own state, deciding on its own sensor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CloudService } from '@ferry/cloud';
import { generatePrivateToken, mintPublicToken } from '@ferry/cloud/functions';
import { EmulatedBoard, goOnline, MIN_TEMPERATURE_WASM, NamespaceMinimum, type Online } from '@ferry/firmware';
import { decode, verify } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { chart } from './board.ts';
import { intOption } from './key.ts';
import type { Io } from './io.ts';

interface Room {
  readonly id: string;
  readonly name: string;
  readonly initialC: number;
  readonly lossPerS: number;
  readonly heatCPerS: number;
}

const ROOMS: readonly Room[] = [
  // Every room can reach the setpoint band with the furnace on (outside + heat/loss > 20.5 °C); the
  // bedroom loses heat fastest, so it is the one that decides how long the furnace runs.
  { id: 'th-living', name: 'living room (thermostat)', initialC: 19.6, lossPerS: 1 / 7200, heatCPerS: 0.004 },
  { id: 'r-kitchen', name: 'kitchen', initialC: 20.4, lossPerS: 1 / 8000, heatCPerS: 0.0035 },
  { id: 'r-bedroom', name: 'bedroom', initialC: 19.0, lossPerS: 1 / 4500, heatCPerS: 0.0045 },
  { id: 'r-hall', name: 'hall', initialC: 19.3, lossPerS: 1 / 6000, heatCPerS: 0.004 },
];
const hhmm = (ms: number): string => `${String(Math.floor(ms / 3_600_000)).padStart(2, '0')}:${String(Math.floor(ms / 60_000) % 60).padStart(2, '0')}`;

export function demoCommand(io: Io, setCode: (c: number) => void): Command {
  return new Command('demo')
    .description(
      'the online demo: cloud + a thermostat and three room readers on one furnace; the thermostat decides on the coldest room through the cloud, then falls back offline',
    )
    .option('--hours <h>', 'simulated hours', '2')
    .option('--seed <n>', 'sensor noise seed', '1')
    .action(async (o: { hours: string; seed: string }) => {
      const tickMs = 10_000;
      const ticks = Math.round((intOption(o.hours, '--hours', 1, 48) * 3_600_000) / tickMs);
      const offlineAt = Math.floor((ticks * 2) / 3);
      const dataDir = mkdtempSync(join(tmpdir(), 'ferry-demo-'));
      const cloud = new CloudService({ dataDir, mqttPort: 0, httpPort: 0, functionRunner: 'in-process', log: () => undefined });
      const { mqttUrl, httpUrl } = await cloud.start();
      io.out(`Ferry demo: cloud up (MQTT ${mqttUrl}, HTTP ${httpUrl}); four emulated boards in one house, one furnace\n`);
      // Every route of the API needs a credential (docs/security.md): the admin's, made at first start.
      io.out(`admin credential (shown once; kept in ${join(dataDir, 'admin.token')}, mode 0600, until the demo ends): ${cloud.adminToken}\n`);
      const boards: EmulatedBoard[] = [];
      const links: Online[] = [];
      const keys = new Map<string, Uint8Array>();
      let online = true;
      try {
        // The house owner registers (a private token only they hold) and white-lists the function for "home".
        const priv = generatePrivateToken('house');
        const reg = cloud.functions.register(priv);
        if (!reg.ok) throw reg.error;
        const owner = reg.value.owner;
        const hash = createHash('sha256').update(readFileSync(MIN_TEMPERATURE_WASM)).digest('hex');
        const wl = cloud.functions.setWhitelisted(priv, 'home', hash, true);
        if (!wl.ok) throw wl.error;
        for (const [i, r] of ROOMS.entries()) {
          const { key } = cloud.devices.add(r.id, 'home', Date.now(), owner);
          keys.set(r.id, Buffer.from(key, 'hex'));
          const b = await EmulatedBoard.create({
            key: Buffer.from(key, 'hex'),
            deviceId: r.id,
            seed: intOption(o.seed, '--seed', 0, 0xffff_ffff) + i,
            tickMs,
            room: { initialC: r.initialC, lossPerS: r.lossPerS, heatCPerS: r.heatCPerS, outsideC: 5 },
          });
          // Readers measure; only the thermostat drives the furnace (a reader's setpoint never calls for heat).
          if (i > 0) b.state.setText('cfg.sp', '5');
          boards.push(b);
          links.push(await goOnline(b, { url: mqttUrl, namespace: 'home', mirror: false }));
          const booted = await b.boot(); // online first, so the boot message (sq 0) reaches the cloud too
          if (!booted.ok) throw booted.error;
          io.out(`  ${r.id.padEnd(10)} ${r.name.padEnd(26)} provisioned in namespace "home", key sealed in the cloud\n`);
        }
        // The thermostat's public token: namespace "home", this one function, no schedules; a call rate for the
        // demo's pace (hundreds of simulated ticks a second), where a real board asks once per 10 s tick.
        const token = mintPublicToken(
          priv,
          { subject: ROOMS[0]!.id, ttlS: 86_400, namespaces: ['home'], functions: [hash], rate: { perSecond: 2000, burst: 2000 } },
          Date.now(),
        );
        if (!token.ok) throw token.error;
        const nsMin = await NamespaceMinimum.create(boards[0]!, {
          namespace: 'home',
          token: token.value,
          transport: links[0]!.client,
          httpUrl,
          timeoutMs: 500,
        });
        io.out(`  thermostat calls min_temperature by hash ${hash.slice(0, 12)}… in the cloud, falling back to itself after 500 ms\n`);
        const nsState = cloud.functions.namespaces.state(owner, 'home');
        let where = '';
        io.out(`setpoint 20.00 °C ± 0.50; one tick = 10 s; ${ticks} ticks; the cloud goes away at ${hhmm(offlineAt * tickMs)}\n\n`);
        io.out(' time   coldest   furnace  min from  decision (thermostat)\n');
        const th = boards[0]!;
        const temps: number[][] = ROOMS.map(() => []);
        const heat: boolean[] = [];
        let shown = 0;
        let sentToCloud = 0;
        for (let i = 0; i < ticks; i++) {
          if (i === offlineAt) {
            await Promise.all(links.map((l) => l.close()));
            await cloud.stop();
            online = false;
            io.out(` ${hhmm(i * tickMs)}  --- the cloud is gone: the thermostat keeps running on its own sensor ---\n`);
          }
          const m = await nsMin.refresh(); // the cloud's answer (or its own) first, then the tick decides on it
          if (!m.ok) throw m.error;
          where = m.where;
          for (const b of boards) {
            const r = b.tick();
            if (!r.ok) throw r.error;
          }
          for (const b of boards.slice(1)) b.room.furnaceOn = th.room.furnaceOn; // one furnace heats the house
          if (online) {
            await Promise.all(links.map((l) => l.flush()));
            sentToCloud = boards.reduce((n, b) => n + b.messages.length, 0);
            // Wait until the cloud has every message and the owner's namespace holds each reader's latest reading.
            const end = Date.now() + 5000;
            const latest = (b: EmulatedBoard): boolean =>
              new TextDecoder().decode(nsState.get(`temp.${b.deviceId}`) ?? new Uint8Array()).endsWith(` ${Math.floor(b.clock.nowMs() / 1000) * 1000}`);
            while ((cloud.ingest.counters().accepted < sentToCloud || !boards.slice(1).every(latest)) && Date.now() < end) {
              await new Promise((r) => setTimeout(r, 1));
            }
          }
          for (const [k, b] of boards.entries()) temps[k]!.push(b.room.temperatureC);
          heat.push(th.furnaceOn);
          for (const t of th.messages.slice(shown)) {
            const d = decode(t);
            if (!d.ok) continue;
            const data = d.value.claims['d'] as Record<string, unknown>;
            if (d.value.claims['ev'] === 'dec') {
              io.out(
                ` ${hhmm(i * tickMs)}  ${String(data['t']).padStart(6)} °C  ${data['heat'] === true ? 'ON ' : 'off'}      ${where.padEnd(5)}     ${String(data['why'])}\n`,
              );
            }
          }
          shown = th.messages.length;
        }
        io.out('\n');
        for (const [k, r] of ROOMS.entries()) io.out(`${r.name}\n${chart(temps[k]!, heat, 72).slice(0, 3).join('\n')}\n`);
        io.out(`${chart(temps[0]!, heat, 72)[3]}\n\n`);
        const accepted = cloud.ingest.counters().accepted;
        const bad = boards.flatMap((b) => b.messages.filter((t) => !verify(t, hmacKey(keys.get(b.deviceId)!)).ok)).length;
        io.out(
          `the cloud accepted ${accepted} signed messages from 4 boards while online (each verified, de-duplicated, in order); ${bad} of all messages failed verification\n`,
        );
        const s = nsMin.fn.stats;
        let readers = 0;
        while (nsState.keyAt('temp.', readers) !== undefined) readers++;
        io.out(`the house namespace in the cloud held ${readers} room readings (every board's latest), which min_temperature read\n`);
        io.out(
          `min_temperature ran ${s.cloud} times in the cloud (uploaded ${s.uploads} time) and ${s.local} times on the board; online the thermostat heated for the coldest room, offline for its own\n`,
        );
        if (bad > 0) setCode(1);
      } finally {
        if (online) {
          await Promise.all(links.map((l) => l.close().catch(() => undefined)));
          await cloud.stop();
        }
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
}
