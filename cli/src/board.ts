/** @module `ferry board`: run the firmware on the emulated board (sim, demo, run online) and check modules (inspect). */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { EmulatedBoard, THERMOSTAT_WASM } from '@ferry/firmware';
import { decode, verify } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { checkModule, inspect, signature } from '@ferry/wasm-host';
import { intOption, keyBytes } from './key.ts';
import { UsageError } from './usage.ts';
import { boardRunCommand } from './board-run.ts';
import type { Io } from './io.ts';

const DEMO_KEY = '0f'.repeat(32);

async function makeBoard(
  o: { seed: string; key?: string; device: string; wasm: string; tickMs: string },
  io: Io,
  key: Uint8Array,
  onMessage?: (t: string) => void,
): Promise<EmulatedBoard> {
  try {
    return await EmulatedBoard.create({
      wasm: o.wasm,
      key,
      deviceId: o.device,
      seed: intOption(o.seed, '--seed', 0, 0xffff_ffff),
      tickMs: intOption(o.tickMs, '--tick-ms', 100, 3_600_000),
      ...(onMessage && { onMessage }),
      onLog: (level, text) => {
        if (level >= 2) io.err(`board log: ${text}\n`);
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`no firmware at ${o.wasm}: run npm run build:firmware`);
    throw e;
  }
}

const hhmm = (ms: number): string => {
  const m = Math.floor(ms / 60000);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

/** A two-row terminal chart: temperature as block heights, and the furnace as a bar. */
export function chart(temps: number[], heat: boolean[], width: number): string[] {
  const cols = Math.min(width, temps.length);
  const per = temps.length / cols;
  const t: number[] = [];
  const duty: number[] = [];
  for (let c = 0; c < cols; c++) {
    const a = Math.floor(c * per),
      b = Math.max(a + 1, Math.floor((c + 1) * per));
    const slice = temps.slice(a, b);
    t.push(slice.reduce((x, y) => x + y, 0) / slice.length);
    duty.push(heat.slice(a, b).filter(Boolean).length / (b - a));
  }
  const lo = Math.min(...t),
    hi = Math.max(...t);
  const blocks = '▁▂▃▄▅▆▇█';
  const level = (v: number): string => blocks[Math.min(7, Math.floor(v * 8))]!;
  const line = t.map((v) => level((v - lo) / (hi - lo || 1))).join('');
  return [
    `${hi.toFixed(1).padStart(5)} °C ┐`,
    `  room  ${line}`,
    `${lo.toFixed(1).padStart(5)} °C ┘`,
    `furnace ${duty.map((d) => (d === 0 ? '·' : level(d))).join('')}  (share of time on)`,
  ];
}

export function boardCommands(io: Io, setCode: (c: number) => void): Command {
  const board = new Command('board').description('run firmware on the emulated board, or check a module against the ABI');
  const common = (c: Command): Command =>
    c
      .option('--seed <n>', 'random seed for sensor noise', '1')
      .option('--device <id>', 'device id (message kid)', 'th-01')
      .option('--wasm <path>', 'firmware module', THERMOSTAT_WASM)
      .option('--tick-ms <ms>', 'simulated time per tick', '10000');

  common(board.command('sim'))
    .description('run the thermostat offline for N ticks and print every signed message, one per line (deterministic)')
    .option('--ticks <n>', 'control periods to run', '100')
    .option('--key <hex>', 'device key in hex (or FERRY_KEY)')
    .action(async (o: { ticks: string; seed: string; key?: string; device: string; wasm: string; tickMs: string }) => {
      const key = keyBytes(o.key, io);
      const b = await makeBoard(o, io, key, (t) => io.out(`${t}\n`));
      const boot = await b.boot();
      if (!boot.ok) {
        io.err(`${boot.error.message}\n`);
        setCode(1);
        return;
      }
      await b.run(intOption(o.ticks, '--ticks', 0, 10_000_000));
    });

  common(board.command('demo'))
    .description('the demo: an emulated thermostat runs the real firmware offline; prints its decisions, signed messages and a chart')
    .option('--hours <h>', 'simulated hours', '6')
    .option('--key <hex>', 'device key in hex (default: a demo key)')
    .action(async (o: { hours: string; seed: string; key?: string; device: string; wasm: string; tickMs: string }) => {
      const key = o.key === undefined && io.env['FERRY_KEY'] === undefined ? Buffer.from(DEMO_KEY, 'hex') : keyBytes(o.key, io);
      const b = await makeBoard(o, io, key);
      const tickMs = intOption(o.tickMs, '--tick-ms', 100, 3_600_000);
      const ticks = Math.round((intOption(o.hours, '--hours', 1, 24 * 365) * 3_600_000) / tickMs);
      const size = readFileSync(o.wasm).length;
      io.out(`Ferry demo: emulated thermostat "${b.deviceId}" running ${o.wasm.replace(/.*\/firmware\//, 'firmware/')} (${size} bytes of wasm) offline\n`);
      io.out(`setpoint 20.00 °C ± 0.50 hysteresis, minimum on/off 180 s; outside 5 °C; one tick = ${tickMs / 1000} s; ${ticks} ticks\n`);
      io.out('at half time the setpoint is raised to 21 °C through state (as the cloud would), and the board reboots once (new epoch)\n\n');
      io.out(' time   room °C  furnace  decision (signed message below)\n');
      const temps: number[] = [];
      const heat: boolean[] = [];
      const start = b.clock.nowMs();
      let shown = 0;
      const show = (from: number): void => {
        for (const t of b.messages.slice(from)) {
          const d = decode(t);
          if (!d.ok) continue;
          const ev = d.value.claims['ev'];
          const data = d.value.claims['d'] as Record<string, unknown>;
          const at = hhmm(d.value.claims.iat * 1000 - start);
          if (ev === 'dec')
            io.out(
              ` ${at}  ${String(data['t']).padStart(6)}   ${data['heat'] === true ? 'ON ' : 'off'}      ${String(data['why'])}   [ep ${d.value.header.ep} sq ${d.value.header.sq}]\n        ${t}\n`,
            );
          else if (ev === 'boot') io.out(` ${at}  boot: epoch ${d.value.header.ep}, sequence restarts at ${d.value.header.sq}\n        ${t}\n`);
          else if (ev === 'alarm') io.out(` ${at}  ALARM ${JSON.stringify(data)}\n`);
        }
      };
      await b.boot();
      for (let i = 0; i < ticks; i++) {
        if (i === Math.floor(ticks / 2)) {
          b.state.setText('cfg.sp', '21');
          io.out(` ${hhmm(b.clock.nowMs() - start)}  state: cfg.sp = 21\n`);
        }
        if (i === Math.floor((ticks * 3) / 4)) await b.boot();
        b.tick();
        show(shown);
        shown = b.messages.length;
        temps.push(b.room.temperatureC);
        heat.push(b.furnaceOn);
      }
      const key2 = hmacKey(key);
      const bad = b.messages.filter((t) => !verify(t, key2).ok).length;
      const pairs = new Set(
        b.messages.map((t) => {
          const p = decode(t);
          return p.ok ? `${p.value.header.ep}/${p.value.header.sq}` : '';
        }),
      );
      io.out(`\n${chart(temps, heat, 72).join('\n')}\n\n`);
      io.out(
        `${b.messages.length} messages signed by the firmware, ${b.messages.length - bad} verified with the device key, ${pairs.size} distinct (epoch, seq) pairs; ${b.switches.length} furnace switches; epochs 1..${b.epoch}\n`,
      );
      io.out(`verify them yourself: npx ferry board sim --ticks 5 --key ${DEMO_KEY} | npx ferry msg verify --key ${DEMO_KEY}\n`);
      if (bad > 0) setCode(1);
    });

  board.addCommand(boardRunCommand(io));

  board
    .command('inspect <wasm>')
    .description('check a module against the device ABI: imports and their signatures, exports, memory')
    .action((path: string) => {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(path);
      } catch {
        throw new UsageError(`cannot read ${path}`);
      }
      const info = inspect(bytes);
      if (info.ok) {
        for (const i of info.value.imports) io.out(`import ${i.module}.${i.name} ${i.type ? signature(i.type) : i.kind}\n`);
        for (const e of info.value.exports) io.out(`export ${e.name} ${e.type ? signature(e.type) : e.kind}\n`);
        for (const m of info.value.memories) io.out(`memory ${m.initial} page(s), max ${m.maximum ?? 'none'}\n`);
      }
      const c = checkModule(bytes);
      if (c.ok) io.out(`ok: ${path} (${bytes.length} bytes) conforms to the device ABI\n`);
      else {
        for (const e of c.errors) io.err(`${e.message}\n`);
        setCode(1);
      }
    });
  return board;
}
