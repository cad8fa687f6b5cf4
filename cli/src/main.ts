/**
 * @module The `ferry` command line. Each command group lives in its own file; this one wires them into
 * commander and owns exit codes: 0 success, 1 the input was refused (a bad token, a bad module),
 * 2 usage errors, at every level of commands.
 */
import { Command, CommanderError } from 'commander';
import { boardCommands } from './board.ts';
import { flashCommand } from './flash.ts';
import { msgCommands } from './msg.ts';
import { decodeCommand } from './decode.ts';
import { gatewayCommands } from './gateway.ts';
import { cloudCommands, deviceCommands } from './cloud.ts';
import { tokenCommands } from './token.ts';
import { ownerCommands } from './owner.ts';
import { fnCommands } from './fn.ts';
import { ruleCommands } from './rule.ts';
import { soCommands } from './so.ts';
import { notifyCommands } from './notify.ts';
import { alarmCommands } from './alarm.ts';
import { actionCommands } from './action.ts';
import { demoCommand } from './demo.ts';
import { statusCommand } from './status.ts';
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
  const setCode = (c: number): void => {
    code = c;
  };
  program.addCommand(boardCommands(io, setCode));
  program.addCommand(msgCommands(io, setCode));
  program.addCommand(flashCommand(io, setCode, program)); // also adds `board upload`
  program.addCommand(decodeCommand(io, setCode));
  program.addCommand(gatewayCommands(io, setCode));
  program.addCommand(cloudCommands(io, setCode));
  program.addCommand(deviceCommands(io, setCode));
  program.addCommand(ownerCommands(io, setCode));
  program.addCommand(tokenCommands(io, setCode));
  program.addCommand(fnCommands(io, setCode));
  program.addCommand(ruleCommands(io, setCode));
  program.addCommand(soCommands(io, setCode));
  program.addCommand(notifyCommands(io, setCode));
  program.addCommand(alarmCommands(io, setCode));
  program.addCommand(actionCommands(io, setCode));
  program.addCommand(demoCommand(io, setCode));
  program.addCommand(statusCommand(io, setCode));
  inheritSettings(program);
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    // Exit code 0 from commander is help or the version asked for; any other is how the command was called.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      io.err(`ferry: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return code;
}

/**
 * Gives every command below `parent` its exit override, output streams and help settings. commander copies
 * them only into commands made with `.command()`, not into the groups added with `addCommand`, whose errors
 * would otherwise call process.exit(1) and write to the process's stderr instead of `io`.
 */
function inheritSettings(parent: Command): void {
  for (const c of parent.commands) {
    c.copyInheritedSettings(parent);
    inheritSettings(c);
  }
}
