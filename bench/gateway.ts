/**
 * @module bench:gateway — the gateway's figures, all in one run on this machine:
 *  1. events/s through decode -> rule -> publish: real BTHome v2 service data (the test vectors, plain and
 *     AES-CCM encrypted) decoded by our decoder, turned into readings, through a single-filter rule
 *     (temperature > 25.06: exactly half pass) in a RulesHost, outputs published with QoS 1 to an MQTT broker,
 *     counted at a subscriber (a worker thread, as the cloud would be: its MQTT work is charged to no side);
 *     timed from the first advert until the subscriber has every passing output. Measured as the rule path
 *     alone ("ours"); the same with the RulesHost replay buffer never trimmed (a diagnostic of the
 *     buffer's cost; it used to be trimmed with splice per input, now in batches); and the whole GatewayDaemon (each reading and
 *     each output signed and committed to the SQLite outbox, synchronous=NORMAL, drained by the QoS 1 uplink).
 *  2. the same filter in Node-RED on the same broker, interleaved run by run with (1): mqtt in -> json ->
 *     switch -> mqtt out. Node-RED is fed the readings as decoded JSON (it has no BTHome decoder), produced
 *     before the clock starts, which favours it. Installed once with npm into .build/bench-node-red
 *     (git-ignored, kept between runs); when it cannot be installed its figures are null.
 *  3. store-and-forward replay: an outbox filled while the broker is down, then drained to empty by an
 *     Uplink once the broker is back (msgs/s), and bytes on disk per buffered message (database + WAL),
 *     at the default synchronous=FULL (fsync per commit) and at NORMAL.
 *  4. time to move a running windowed aggregation (with state) between two RulesHosts over their HTTP APIs
 *     on loopback: POST /api/move from request to response, back and forth.
 * Progress goes to stderr; the last line of stdout is one JSON object with all figures.
 */
import { median, progress } from './lib.ts';
import { DAEMON_EVENTS, EVENTS, OUT, REPLAY_FULL, REPLAY_NORMAL, REPLAY_RUNS, RUNS, THRESHOLD } from './gateway/config.ts';
import { Counter } from './gateway/counter.ts';
import { daemonPath } from './gateway/daemon.ts';
import { DEVICES, expectedDaemon, expectedOutputs, PICK } from './gateway/events.ts';
import { broker, cleanup, log, sleep } from './gateway/lifecycle.ts';
import { measureMoves } from './gateway/move.ts';
import { nodeRedPath } from './gateway/node-red.ts';
import { oursPaths } from './gateway/ours.ts';
import { type Replay, replay } from './gateway/replay.ts';

async function main(): Promise<Record<string, unknown>> {
  const shared = await broker('shared');
  log(`broker: ${shared.kind} at ${shared.url}; ${EVENTS} events per run (${expectedOutputs} pass), ${RUNS} runs, interleaved`);
  const counter = await Counter.start(shared.url);
  // Outputs expected so far on each topic (cumulative: a run is done when its topic reaches the total).
  const totals = new Map<string, number>();
  const expectMore = (topic: string, n: number): number => {
    const t = (totals.get(topic) ?? 0) + n;
    totals.set(topic, t);
    return t;
  };

  // (1a) ours, the rule path alone (and its untrimmed-buffer diagnostic); (1b) the whole daemon; (2) Node-RED.
  const ours = await oursPaths(shared.url, counter, expectMore);
  const daemon = await daemonPath(shared.url, counter, expectMore);
  const { nodeRed, run: viaNodeRed } = await nodeRedPath(shared, counter, expectMore);

  const nrOk = !('error' in nodeRed);
  const paths = nrOk ? 4 : 3;
  const bar = progress((RUNS + 1) * paths + REPLAY_RUNS * 2 + 1, 'bench:gateway');
  const rates = { ours: [] as number[], untrimmed: [] as number[], daemon: [] as number[], nodered: [] as number[] };
  // Warm-up (not counted): one run of each, so V8 (and Node-RED's) have optimised the paths before timing.
  await ours.ours();
  bar.increment();
  await ours.untrimmed();
  bar.increment();
  await daemon.run();
  bar.increment();
  if (nrOk) {
    await viaNodeRed();
    bar.increment();
  }
  for (let r = 0; r < RUNS; r++) {
    rates.ours.push(await ours.ours());
    bar.increment();
    rates.untrimmed.push(await ours.untrimmed());
    bar.increment();
    rates.daemon.push(await daemon.run());
    bar.increment();
    if (nrOk) {
      rates.nodered.push(await viaNodeRed());
      bar.increment();
    }
  }
  await sleep(300);
  const exact = {
    ours: (await counter.count(OUT.ours)) === (RUNS + 1) * expectedOutputs,
    untrimmed: (await counter.count(OUT.untrimmed)) === (RUNS + 1) * expectedOutputs,
    daemon: (await counter.count(OUT.daemon)) === (RUNS + 1) * expectedDaemon,
    nodered: nrOk ? (await counter.count(OUT.nodered)) === (RUNS + 1) * expectedOutputs : null,
  };

  // (3) Store-and-forward replay.
  const replayRuns = { NORMAL: [] as Replay[], FULL: [] as Replay[] };
  for (let r = 0; r < REPLAY_RUNS; r++) {
    replayRuns.NORMAL.push(await replay('NORMAL', REPLAY_NORMAL));
    bar.increment();
    replayRuns.FULL.push(await replay('FULL', REPLAY_FULL));
    bar.increment();
  }

  // (4) Moving a running windowed aggregation between two hosts over HTTP.
  const moves = await measureMoves();
  const { moveTimes, relocationBytes } = moves;
  bar.increment();
  bar.stop();

  // ---- report
  const med = { ours: median(rates.ours), untrimmed: median(rates.untrimmed), daemon: median(rates.daemon), nodered: nrOk ? median(rates.nodered) : null };
  const ratio = med.nodered === null ? null : med.ours / med.nodered;
  const ratioDaemon = med.nodered === null ? null : med.daemon / med.nodered;
  const rp = (s: 'NORMAL' | 'FULL') => ({
    msgs_per_sec: Math.round(median(replayRuns[s].map((x) => x.rate))),
    bytes_per_msg: Math.round(median(replayRuns[s].map((x) => x.bytesPerMsg))),
    payload_bytes_per_msg: Math.round(median(replayRuns[s].map((x) => x.payloadPerMsg))),
    messages: s === 'FULL' ? REPLAY_FULL : REPLAY_NORMAL,
  });
  const moveMed = median(moveTimes);
  const k = (n: number | null): string => (n === null ? 'n/a' : `${(n / 1000).toFixed(1)}k/s`);
  console.log(
    `broker ${shared.kind}; ${EVENTS} BTHome adverts per run (${PICK.length} vectors, 3 of 8 AES-CCM encrypted, ${DEVICES} sensors), single filter temperature > ${THRESHOLD} (${expectedOutputs} pass); medians of ${RUNS} interleaved runs`,
  );
  console.log(`  ours: decode -> rule -> MQTT QoS 1                       ${k(med.ours).padStart(10)}  (outputs exact: ${exact.ours})`);
  console.log(`  ours, RulesHost replay buffer untrimmed (diagnostic)   ${k(med.untrimmed).padStart(10)}  (outputs exact: ${exact.untrimmed})`);
  console.log(
    `  ours, whole daemon (sign + outbox NORMAL + uplink)      ${k(med.daemon).padStart(10)}  (${DAEMON_EVENTS} events/run;  outputs exact: ${exact.daemon})`,
  );
  if (nrOk)
    console.log(
      `  Node-RED ${(nodeRed as { version: string }).version.padEnd(7)} JSON in: mqtt in>json>switch>mqtt out ${k(med.nodered).padStart(10)}  (outputs exact: ${String(exact.nodered)})`,
    );
  else console.log(`  Node-RED: not measured (${(nodeRed as { error: string }).error})`);
  if (ratio !== null)
    console.log(
      `  ours / Node-RED = ${ratio.toFixed(2)}x (goal >= 3x: ${ratio >= 3 ? 'met' : 'missed'}); whole daemon / Node-RED = ${ratioDaemon!.toFixed(2)}x`,
    );
  console.log(
    `  store-and-forward replay: ${rp('FULL').msgs_per_sec} msg/s at synchronous=FULL (default), ${rp('NORMAL').msgs_per_sec} msg/s at NORMAL; ${rp('NORMAL').bytes_per_msg} bytes on disk per buffered reading of ${rp('NORMAL').payload_bytes_per_msg} bytes (database + WAL, ${REPLAY_NORMAL} buffered)`,
  );
  console.log(
    `  rule move gateway <-> cloud over HTTP: median ${moveMed.toFixed(1)} ms over ${moveTimes.length} moves (max ${Math.max(...moveTimes).toFixed(1)} ms; goal < 1000 ms: ${moveMed < 1000 ? 'met' : 'missed'}); relocation object with window state ${relocationBytes} bytes`,
  );
  return {
    bench: 'gateway',
    runs: RUNS,
    events_per_run: EVENTS,
    passing_per_run: expectedOutputs,
    daemon_events_per_run: DAEMON_EVENTS,
    broker: shared.kind,
    events_per_sec: {
      ours_decode_rule_publish: Math.round(med.ours),
      ours_replay_buffer_untrimmed_diagnostic: Math.round(med.untrimmed),
      ours_whole_daemon_outbox_normal: Math.round(med.daemon),
      node_red: med.nodered === null ? null : Math.round(med.nodered),
    },
    runs_events_per_sec: {
      ours: rates.ours.map(Math.round),
      untrimmed: rates.untrimmed.map(Math.round),
      daemon: rates.daemon.map(Math.round),
      node_red: nrOk ? rates.nodered.map(Math.round) : null,
    },
    ratios: {
      ours_vs_node_red: ratio === null ? null : Number(ratio.toFixed(2)),
      untrimmed_vs_node_red: med.nodered === null ? null : Number((med.untrimmed / med.nodered).toFixed(2)),
      daemon_vs_node_red: ratioDaemon === null ? null : Number(ratioDaemon.toFixed(2)),
    },
    outputs_exact: exact,
    node_red:
      'error' in nodeRed
        ? { version: null, error: nodeRed.error }
        : { version: nodeRed.version, startup_ms: Math.round(nodeRed.startupMs), input: 'decoded JSON (no BTHome decoding)' },
    daemon_problems: daemon.problems(),
    replay: { synchronous_full: rp('FULL'), synchronous_normal: rp('NORMAL') },
    move_ms: {
      median: Number(moveMed.toFixed(1)),
      max: Number(Math.max(...moveTimes).toFixed(1)),
      moves: moveTimes.length,
      relocation_bytes: relocationBytes,
      job_inputs: moves.jobInputs,
    },
  };
}

let result: Record<string, unknown> | undefined;
let failure: unknown;
try {
  result = await main();
} catch (e) {
  failure = e;
} finally {
  await cleanup();
}
if (failure !== undefined) {
  process.stderr.write(`bench:gateway failed: ${(failure as Error).stack ?? String(failure)}\n`);
  process.exit(1);
}
console.log(JSON.stringify(result));
process.exit(0);
