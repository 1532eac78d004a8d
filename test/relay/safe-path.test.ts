// The one guard every file name the relay builds from a message goes through (issue 14, finding
// 1): for any input whatsoever it returns a path directly inside its folder, or refuses.
import fc from 'fast-check';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newBackupId } from '../../relay/pipeline/backups.ts';
import { BACKUP_ID_SHAPE, JOB_ID_SHAPE, pathInside, UnsafeName, type NameShape } from '../../relay/safe-path.ts';
import { BACKUP_ID_PATTERN, DEPLOYMENT_ID_PATTERN, newId } from '../../shared/ids.ts';
import { PATH_LIKE } from '../support/hostile-hub-frames.ts';

/** A shape that takes anything: what is left to prove is that the guard's own checks keep a name in its folder. */
const ANYTHING: NameShape = { what: 'anything', pattern: /^[\s\S]*$/ };
const FOLDERS = ['/config/.lanyard/staging', '/var/lib/lanyard/journal/outbox', '/backup', '/', '/config/', '/a/../b'];

const anyName = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...PATH_LIKE), fc.array(fc.constantFrom('..', '.', '/', '\\', '\u0000', 'x', 'dep_'), { maxLength: 8 }).map((parts) => parts.join('')));

function refusedOrInside(folder: string, shape: NameShape, name: unknown, suffix: string): void {
  let path: string;
  try {
    path = pathInside(folder, shape, name, suffix);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsafeName);
    expect((error as UnsafeName).code).toBe('unsafe_name');
    return;
  }
  const base = posix.resolve(folder);
  expect(posix.dirname(path)).toBe(base);
  expect(path.startsWith(base === '/' ? '/' : `${base}/`)).toBe(true);
  expect(posix.basename(path)).toBe(`${name as string}${suffix}`);
  expect(path).not.toMatch(/\u0000/);
}

describe('a path built from a name a message sent', () => {
  it('is directly inside its folder or refused, for any name, even with a shape that takes anything', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FOLDERS), anyName, fc.constantFrom('', '.json', '.tar.gz', '/..', '/../x'), (folder, name, suffix) => {
        refusedOrInside(folder, ANYTHING, name, suffix);
        refusedOrInside(folder, JOB_ID_SHAPE, name, suffix);
        refusedOrInside(folder, BACKUP_ID_SHAPE, name, suffix);
      }),
      { numRuns: 5000 },
    );
  });

  it('takes every id the edge and the relay make', () => {
    fc.assert(
      fc.property(fc.stringMatching(DEPLOYMENT_ID_PATTERN), fc.stringMatching(BACKUP_ID_PATTERN), (jobId, backupId) => {
        expect(pathInside('/config/.lanyard/staging', JOB_ID_SHAPE, jobId)).toBe(`/config/.lanyard/staging/${jobId}`);
        expect(pathInside('/backup', BACKUP_ID_SHAPE, backupId, '.tar.gz')).toBe(`/backup/${backupId}.tar.gz`);
      }),
    );
  });

  it('refuses a job id of ../../../config before it names any folder, saying what it wanted', () => {
    expect(() => pathInside('/config/.lanyard/staging', JOB_ID_SHAPE, '../../../config')).toThrow(
      new UnsafeName('"../../../config" is not a job id (dep_ and 18 base32 characters); refused before it named any file'),
    );
  });

  it('refuses what is not a string, and a folder that is not absolute', () => {
    expect(() => pathInside('/backup', BACKUP_ID_SHAPE, 42)).toThrow(UnsafeName);
    expect(() => pathInside('/backup', BACKUP_ID_SHAPE, null)).toThrow(UnsafeName);
    expect(() => pathInside('backup', ANYTHING, 'x')).toThrow(/not an absolute folder/);
  });
});

describe('a backup named after a job', () => {
  it('has a backup id the protocol takes, for every job id the edge makes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.date({ min: new Date('2000-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }), (now, when) => {
        expect(newBackupId(newId('dep', now), when)).toMatch(BACKUP_ID_PATTERN);
      }),
    );
  });

  it('is never named after something that is not a job id', () => {
    expect(() => newBackupId('../../../backup')).toThrow(UnsafeName);
  });
});
