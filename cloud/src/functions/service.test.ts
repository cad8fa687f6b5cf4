import { describe, expect, it } from 'vitest';
import { MemoryNamespaceStore, type NamespaceStore } from './namespaces/namespace-store.ts';
import { sha256Hex } from './registry.ts';
import { FunctionService } from './service.ts';
import { wat } from '@ferry/test-kit/wat';
import { BAD_MODULES, codeOf, KV_WAT, ManualClock, owner, unwrap } from '@ferry/test-kit/functions';

const setup = () => {
  const clock = new ManualClock();
  const svc = new FunctionService({ clock });
  const alice = owner('alice');
  unwrap(svc.register(alice.token));
  return { clock, svc, alice };
};

describe('handleCall protocol', () => {
  it('unknown hash -> FERRY_FN_MODULE_NEEDED; the caller uploads and retries', async () => {
    const { svc, alice } = setup();
    const bytes = wat(KV_WAT);
    const hash = sha256Hex(bytes);
    const req = { hash, export: 'add', args: [20, 22], namespace: 'home', token: alice.token };
    const first = await svc.handleCall(req);
    expect(codeOf(first)).toBe('FERRY_FN_MODULE_NEEDED');
    expect(first.ok ? undefined : first.error.toJSON()).toMatchObject({ code: 'FERRY_FN_MODULE_NEEDED', num: 4002 });
    expect(unwrap(await svc.upload({ bytes, token: alice.token, namespace: 'home' })).hash).toBe(hash);
    expect(unwrap(await svc.handleCall(req))).toEqual({ value: 42, emits: [], logs: [] });
  });

  it('a public token runs only white-listed hashes, and only those its own list allows', async () => {
    const { svc, alice, clock } = setup();
    const { hash } = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' }));
    const pub = alice.mint({}, clock.nowMs());
    const req = { hash, export: 'add', args: [1, 2], namespace: 'home', token: pub };
    expect(codeOf(await svc.handleCall(req))).toBe('FERRY_FN_NOT_WHITELISTED');
    unwrap(svc.setWhitelisted(alice.token, 'home', hash, true));
    expect(unwrap(await svc.handleCall(req)).value).toBe(3);
    const narrow = alice.mint({ functions: ['f'.repeat(64)] }, clock.nowMs());
    expect(codeOf(await svc.handleCall({ ...req, token: narrow }))).toBe('FERRY_FN_NOT_WHITELISTED');
    unwrap(svc.setWhitelisted(alice.token, 'home', hash, false));
    expect(codeOf(await svc.handleCall(req))).toBe('FERRY_FN_NOT_WHITELISTED');
    // The owner's private token is not bound by the white-list.
    expect(unwrap(await svc.handleCall({ ...req, token: alice.token })).value).toBe(3);
    // Only the owner's private token may change the white-list.
    expect(codeOf(svc.setWhitelisted(pub, 'home', hash, true))).toBe('FERRY_FN_BAD_TOKEN');
  });

  it('a call bound to an identity (its MQTT topic) runs only with a public token whose subject is that identity', async () => {
    const { svc, alice, clock } = setup();
    const { hash } = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' }));
    unwrap(svc.setWhitelisted(alice.token, 'home', hash, true));
    const pub = alice.mint({}, clock.nowMs()); // subject: see the test kit's owner().mint
    const subject = unwrap(svc.authenticate(pub)).callerId;
    const req = { hash, export: 'add', args: [1, 2], namespace: 'home', token: pub };
    expect(unwrap(await svc.handleCall({ ...req, boundTo: subject })).value).toBe(3);
    // A token captured from one device and sent by another (on that one's own call topic) is refused.
    expect(codeOf(await svc.handleCall({ ...req, boundTo: `${subject}-other` }))).toBe('FERRY_FN_BAD_TOKEN');
    expect(unwrap(await svc.handleCall(req)).value).toBe(3); // unbound (HTTP, tools): as before
  });

  it('not white-listed is reported before module needed (no upload is asked for a call that cannot run)', async () => {
    const { svc, alice, clock } = setup();
    const r = await svc.handleCall({ hash: 'a'.repeat(64), export: 'f', args: [], namespace: 'home', token: alice.mint({}, clock.nowMs()) });
    expect(codeOf(r)).toBe('FERRY_FN_NOT_WHITELISTED');
  });

  it('malformed requests are FERRY_FN_BAD_REQUEST', async () => {
    const { svc, alice } = setup();
    const ok = { hash: 'a'.repeat(64), export: 'f', args: [], namespace: 'home', token: alice.token };
    for (const bad of [
      { hash: 'A'.repeat(64) },
      { hash: 'abc' },
      { export: '' },
      { export: 'a b' },
      { args: 'x' },
      { args: new Array(65).fill(0) },
      { namespace: 'Home' },
      { namespace: '' },
    ]) {
      expect(codeOf(await svc.handleCall({ ...ok, ...bad } as never))).toBe('FERRY_FN_BAD_REQUEST');
    }
    expect(codeOf(await svc.handleCall(null as never))).toBe('FERRY_FN_BAD_REQUEST');
  });

  it("a module whose maximum exceeds this namespace's quota does not run here", async () => {
    const { svc, alice } = setup();
    const { hash } = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' }));
    (svc.namespaces as import('./namespaces/namespace-store.ts').MemoryNamespaceStore).setQuota('alice', 'tiny', { maxKeys: 8, maxPages: 1 });
    expect(codeOf(await svc.handleCall({ hash, export: 'add', args: [1, 1], namespace: 'tiny', token: alice.token }))).toBe('FERRY_FN_MEMORY_EXCEEDED');
  });

  it('a module built for another ABI version is refused when instantiated', async () => {
    const { svc, alice } = setup();
    const { hash } = unwrap(await svc.upload({ bytes: wat(BAD_MODULES.wrongAbiVersion), token: alice.token, namespace: 'home' }));
    const r = await svc.handleCall({ hash, export: 'f', args: [], namespace: 'home', token: alice.token });
    expect(codeOf(r)).toBe('FERRY_FN_MODULE_INVALID');
    expect(r.ok ? [] : r.error.details).toEqual(['FERRY_ABI_VERSION']);
  });
});

describe('a failing state store', () => {
  it('a call whose writes cannot be committed is FERRY_FN_UNAVAILABLE (not a crash); reads and other calls go on', async () => {
    const inner = new MemoryNamespaceStore();
    let broken = false;
    // A store whose writes fail (disk full, I/O error) while `broken`; reads keep working.
    const namespaces: NamespaceStore = {
      quota: (o, n) => inner.quota(o, n),
      state: (o, n) => {
        const s = inner.state(o, n);
        return {
          get: (k) => s.get(k),
          keyAt: (p, i) => s.keyAt(p, i),
          set: (k, v) => {
            if (broken) throw new Error('SQLITE_FULL: database or disk is full');
            return s.set(k, v);
          },
        };
      },
    };
    const svc = new FunctionService({ clock: new ManualClock(), namespaces });
    const alice = owner('alice');
    unwrap(svc.register(alice.token));
    const { hash } = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' }));
    const call = (exp: string, args: number[] = []) => svc.handleCall({ hash, export: exp, args, namespace: 'home', token: alice.token });
    expect(unwrap(await call('incr')).value).toBe(1);
    broken = true;
    const r = await call('incr');
    expect(codeOf(r)).toBe('FERRY_FN_UNAVAILABLE');
    expect(r.ok ? undefined : r.error.message).toMatch(/disk is full/);
    expect(unwrap(await call('add', [2, 3])).value).toBe(5); // a call that writes nothing still runs
    broken = false;
    expect(unwrap(await call('incr')).value).toBe(2); // nothing of the failed call was committed
  });
});
