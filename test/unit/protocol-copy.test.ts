import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ours = fileURLToPath(new URL('../../docs/PROTOCOL.md', import.meta.url));
/** The shared contract next to the repository, where the team keeps it; absent on a lone clone. */
const shared = fileURLToPath(new URL('../../../shared/PROTOCOL.md', import.meta.url));

describe('the contract in the repository', () => {
  it('is docs/PROTOCOL.md, the same text as ../shared/PROTOCOL.md whenever that exists', () => {
    expect(existsSync(ours), 'docs/PROTOCOL.md is missing').toBe(true);
    if (!existsSync(shared)) {
      // Nothing to compare with: the repository's own copy is the contract.
      console.info('../shared/PROTOCOL.md is absent: only checked that docs/PROTOCOL.md exists');
      return;
    }
    expect(readFileSync(ours, 'utf8'), 'docs/PROTOCOL.md differs from ../shared/PROTOCOL.md: copy the new contract in').toBe(
      readFileSync(shared, 'utf8'),
    );
  });
});
