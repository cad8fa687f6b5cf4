/**
 * @module Where composite-stream objects that left the cloud went (compose/move.ts `Locations`), kept in the
 * cloud's database (cloud.db, table `so_locations`; workers in scale-out share the data directory), so a
 * restarted cloud still lists them (GET /api/v1/sos, with their streams), forwards their updates to the
 * gateway that hosts them, and can move them back. An object in the cloud has no row.
 */
import type Database from 'better-sqlite3';
import type { Location, Locations, PlacedObject } from '../../compose/move.ts';

interface Row {
  so: string;
  location: string;
  owner: string;
  streams: string | null;
}

const placed = (r: Row): PlacedObject => ({
  where: r.location as Location,
  owner: r.owner,
  ...(r.streams !== null && { streams: JSON.parse(r.streams) as string[] }),
});

export class SqliteSoLocations implements Locations {
  readonly #q;

  constructor(db: Database.Database) {
    db.exec('CREATE TABLE IF NOT EXISTS so_locations (so TEXT PRIMARY KEY, location TEXT NOT NULL, owner TEXT NOT NULL, streams TEXT) WITHOUT ROWID');
    this.#q = {
      get: db.prepare<[string], Row>('SELECT so, location, owner, streams FROM so_locations WHERE so = ?'),
      put: db.prepare<[string, string, string, string | null]>(
        'INSERT INTO so_locations (so, location, owner, streams) VALUES (?, ?, ?, ?) ON CONFLICT (so) DO UPDATE SET location = excluded.location, owner = excluded.owner, streams = excluded.streams',
      ),
      remove: db.prepare<[string]>('DELETE FROM so_locations WHERE so = ?'),
      all: db.prepare<[], Row>('SELECT so, location, owner, streams FROM so_locations ORDER BY so'),
    };
  }

  get(so: string): PlacedObject | undefined {
    const r = this.#q.get.get(so);
    return r === undefined ? undefined : placed(r);
  }

  set(so: string, at: PlacedObject | undefined): void {
    if (at === undefined || at.where === 'cloud') this.#q.remove.run(so);
    else this.#q.put.run(so, at.where, at.owner, at.streams === undefined ? null : JSON.stringify(at.streams));
  }

  elsewhere(): (PlacedObject & { readonly so: string })[] {
    return this.#q.all.all().map((r) => ({ so: r.so, ...placed(r) }));
  }
}
