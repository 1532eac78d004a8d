// The failures of the relay's git source, each with a code the edge and the logs can tell apart.
import { CodedError } from '../coded-error.ts';

export type GitErrorCode =
  /** The commit exists but the allowed branch does not contain it. */
  | 'not_on_branch'
  /** A release tag's name is not one git takes. */
  | 'bad_tag'
  /** The relay's remote has no such tag (issue 18). */
  | 'unknown_tag'
  /** The tag on the relay's remote peels to another commit than the job names (issue 18). */
  | 'tag_mismatch'
  /** Neither the cache nor the remote has the commit. */
  | 'unknown_commit'
  /** The remote could not be reached or refused us; the message carries git's words. */
  | 'fetch_failed'
  /** `git.branch` is not something git accepts as a branch name. */
  | 'bad_branch'
  /** A path (or the subfolder) asked for is not in the commit. */
  | 'not_in_commit'
  /** A capture's push was refused or could not reach the remote; the message carries git's words. */
  | 'push_failed'
  /** Any other git failure in the local cache. */
  | 'git_failed';

export class GitError extends CodedError<GitErrorCode> {}
