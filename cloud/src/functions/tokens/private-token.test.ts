import { describe, expect, it } from 'vitest';
import { codeOf, unwrap } from '@ferry/test-kit/functions';
import { Owners } from './owners.ts';
import { derivePublicSigningSecret, generatePrivateToken, parsePrivateToken } from './private-token.ts';

describe('private tokens', () => {
  it('round-trip: generate, parse, register, authenticate', () => {
    const t = generatePrivateToken('alice');
    expect(t).toMatch(/^ferry_sk\.alice\.[A-Za-z0-9_-]{43}$/);
    expect(unwrap(parsePrivateToken(t)).secret.length).toBe(32);
    const owners = new Owners();
    expect(unwrap(owners.register(t))).toEqual({ owner: 'alice' });
    expect(unwrap(owners.authenticate(t))).toBe('alice');
  });

  it('an id is registered once; another private token for it is refused (no take-over)', () => {
    const owners = new Owners();
    unwrap(owners.register(generatePrivateToken('alice')));
    expect(codeOf(owners.register(generatePrivateToken('alice')))).toBe('FERRY_FN_OWNER_EXISTS');
  });

  it('a guessed secret, a foreign secret or a malformed token does not authenticate', () => {
    const owners = new Owners();
    const alice = generatePrivateToken('alice');
    unwrap(owners.register(alice));
    const mallory = generatePrivateToken('mallory');
    expect(codeOf(owners.authenticate(`ferry_sk.alice.${mallory.split('.')[2]}`))).toBe('FERRY_FN_BAD_TOKEN');
    for (const bad of ['', 'ferry_sk.alice', 'ferry_sk.al ice.x', `${alice}x`, alice.replace('ferry_sk', 'ferry_pk'), `ferry_sk.alice.${'A'.repeat(42)}B`]) {
      expect(codeOf(owners.authenticate(bad))).toBe('FERRY_FN_BAD_TOKEN');
    }
    expect(codeOf(owners.authenticate(generatePrivateToken('bob')))).toBe('FERRY_FN_BAD_TOKEN');
  });

  it('the public signing key is bound to the owner and differs from the secret', () => {
    const { secret } = unwrap(parsePrivateToken(generatePrivateToken('alice')));
    const a = derivePublicSigningSecret(secret, 'alice');
    expect(a).toHaveLength(32);
    expect(Buffer.from(a).equals(Buffer.from(secret))).toBe(false);
    expect(Buffer.from(a).equals(Buffer.from(derivePublicSigningSecret(secret, 'bob')))).toBe(false);
    expect(Buffer.from(a).equals(Buffer.from(derivePublicSigningSecret(secret, 'alice')))).toBe(true);
  });
});
