/** @module `ferry owner add`: registers a function owner on a running cloud, which answers its private token once. */
import { Command } from 'commander';
import { send, withApi, type ApiFlags } from './api-client.ts';
import type { Io } from './io.ts';

export function ownerCommands(io: Io, setCode: (c: number) => void): Command {
  const owner = new Command('owner').description('function owners on a running cloud');
  withApi(owner.command('add <id>').description("register an owner; prints its private token once (keep it: it mints the owner's public tokens)")).action(
    (id: string, o: ApiFlags) => send(io, setCode, o, 'POST', '/api/owners', { json: { id } }),
  );
  return owner;
}
