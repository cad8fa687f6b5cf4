/**
 * @module The `ferry` command line. Each command group lives in its own file; this one wires them into
 * commander and owns exit codes: 0 success, 1 the input was refused (a bad token, a bad module),
 * 2 usage errors.
 */
import { Command, CommanderError } from 'commander';
import { boardCommands } from './board.ts';
import { flashCommand } from './flash.ts';
import { msgCommands } from './msg.ts';
import { decodeCommand } from './decode.ts';
import { gatewayCommands } from './gateway.ts';
import { cloudCommands, deviceCommands } from './cloud.ts';
import { demoCommand } from './demo.ts';
import { processIo, type Io } from './io.ts';
import { UsageError } from './usage.ts';

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const program = new Command('ferry')
    .description('Ferry: one WebAssembly function on the board, the gateway and the cloud; signed, sequenced messages between them.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError();
  let code = 0;
  const setCode = (c: number): void => { code = c; };
  program.addCommand(boardCommands(io, setCode));
  program.addCommand(msgCommands(io, setCode));
  program.addCommand(flashCommand(io, setCode, program)); // also adds `board upload`
  program.addCommand(decodeCommand(io, setCode));
  program.addCommand(gatewayCommands(io, setCode));
  program.addCommand(cloudCommands(io));
  program.addCommand(deviceCommands(io, setCode));
  program.addCommand(demoCommand(io, setCode));
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    if (e instanceof UsageError) {
      io.err(`ferry: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return code;
}
