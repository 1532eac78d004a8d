// Where a capture may push: only branches under CAPTURE_BRANCH_PREFIX, named by target and UTC day.
// The guard runs in code before git is called, so no configuration or message can make the relay
// push to the deployed branch (or any other) with its push key.
import { CAPTURE_BRANCH_PREFIX } from '../../shared/drift.ts';
import { CodedError } from '../coded-error.ts';

export class CaptureBranchRefused extends CodedError {
  constructor(branch: string) {
    super('capture_branch_refused', `refusing to push to "${branch}": a capture only pushes branches under ${CAPTURE_BRANCH_PREFIX}`);
  }
}

/** `lanyard/host-edits/<target>/<yyyy-mm-dd>`, the day in UTC of `at`. */
export function captureBranchName(target: string, at: number): string {
  return `${CAPTURE_BRANCH_PREFIX}${target}/${new Date(at).toISOString().slice(0, 10)}`;
}

/**
 * The full ref a capture pushes to, or a refusal: under the prefix, plain characters only, no ".."
 * or "//" or "@{" or a trailing "/" or ".lock" (which git would also refuse), nothing that reads as
 * an option or a refspec of its own.
 */
export function captureRef(branch: string): string {
  const plain = /^[A-Za-z0-9._/-]+$/.test(branch);
  const rest = branch.slice(CAPTURE_BRANCH_PREFIX.length);
  if (
    !branch.startsWith(CAPTURE_BRANCH_PREFIX) ||
    !plain ||
    rest === '' ||
    branch.includes('..') ||
    branch.includes('//') ||
    branch.endsWith('/') ||
    branch.endsWith('.lock') ||
    branch.split('/').some((part) => part.startsWith('.'))
  ) {
    throw new CaptureBranchRefused(branch);
  }
  return `refs/heads/${branch}`;
}
